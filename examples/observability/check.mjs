import { support, observe, stats } from '@tcp-user-timeout/core'

console.log('tcp-user-timeout:', JSON.stringify(support())) // {"supported":true}, or why not, and the fix
const observer = observe((event) => console.log('tcp-user-timeout:', JSON.stringify(event))) // binds, timeouts, errors
process.on('exit', () => console.log('tcp-user-timeout:', JSON.stringify(stats()), JSON.stringify(observer.inForce())))
