// The floor: setsockopt(TCP_USER_TIMEOUT) in a C loop, no runtime in between.
// It works on the bench's own socket, handed down as an inherited fd, so the
// parent reads the result back with the same getUserTimeout as every other
// variant and the kernel path (same socket, same state) is identical.
// Usage: cloop FD CALLS [BASE]   sets BASE, BASE+1, BASE, ... (BASE 5000);
// prints the wall-clock and the CPU ns per call.
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#ifndef TCP_USER_TIMEOUT
#define TCP_USER_TIMEOUT 18
#endif

static double elapsed(const struct timespec *a, const struct timespec *b) {
  return (double)(b->tv_sec - a->tv_sec) * 1e9 + (double)(b->tv_nsec - a->tv_nsec);
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: cloop FD CALLS [BASE]\n");
    return 2;
  }
  int fd = atoi(argv[1]);
  long calls = atol(argv[2]);
  int base = argc > 3 ? atoi(argv[3]) : 5000;
  if (calls < 1) calls = 1;

  struct timespec start, end, cpuStart, cpuEnd;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpuStart);
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (long i = 0; i < calls; i++) {
    // Alternating values, as in the JS variants: every call is a real store.
    int ms = base + (int)(i & 1);
    if (setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &ms, sizeof ms) != 0) {
      fprintf(stderr, "cloop: setsockopt(%d): %s\n", fd, strerror(errno));
      return 1;
    }
  }
  clock_gettime(CLOCK_MONOTONIC, &end);
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpuEnd);

  printf("%.3f %.3f\n", elapsed(&start, &end) / (double)calls, elapsed(&cpuStart, &cpuEnd) / (double)calls);
  return 0;
}
