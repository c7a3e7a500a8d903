// A sandboxed BullMQ processor file (run by BullMQ in a child process): the
// wrapper is applied here, inside the file, where the job runs. The job GETs
// job.data.url and returns what the bound was for that exchange.
import http from 'node:http'
import { currentTimeout, getUserTimeout } from '@tcp-user-timeout/core'
import { withTcpUserTimeout } from '@tcp-user-timeout/bullmq'

export default withTcpUserTimeout(
  async (job) => {
    const userTimeout = await new Promise((resolve, reject) => {
      const req = http.get(job.data.url, (res) => {
        const value = getUserTimeout(res.socket)
        res.resume()
        res.once('end', () => resolve(value))
      })
      req.setTimeout(5000, () => req.destroy(new Error('no answer within 5 s')))
      req.once('error', reject)
    })
    return { pid: process.pid, currentTimeout: currentTimeout() ?? null, userTimeout: userTimeout ?? null }
  },
  { maxExecutionSeconds: 12, jobDataKey: 'timeoutSeconds' },
)
