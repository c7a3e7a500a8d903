import { support, observe, stats } from '@tcp-user-timeout/core'

const log = (...values) => console.log('tcp-user-timeout:', ...values.map((value) => JSON.stringify(value)))
log(support()) // {"supported":true}, or why not and the fix: what a health endpoint can return too
const observer = observe((event) => log(event)) // binds, timeouts, errors
const printStats = () => log(stats(), observer.inForce())
process.on('exit', printStats)
// A signal with no listener ends Node without 'exit': print them, then let the signal end it as it would have.
for (const signal of ['SIGINT', 'SIGTERM'])
  process.once(signal, () => {
    if (process.listenerCount(signal) > 0) return // the app handles it: 'exit' prints them
    printStats()
    process.kill(process.pid, signal) // this listener is gone, so the default action runs
  })
