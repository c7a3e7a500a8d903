// `express4` is an npm alias of express@4, which ships no types; the v5
// types cover what the tests use of it (json(), routing, error middleware).
declare module 'express4' {
  import express = require('express')
  export = express
}
