/*
 * The lb benchmark's client: new TCP connections as fast as the kernel takes them, so the
 * client and the server are not what is measured (a Node client tops out near 1,500
 * connections a second on the benchmark machine, a Node server near 5,000, below both
 * load balancers). Built by bench/lb.ts with cc.
 *
 *   lb-conn-blaster rate HOST PORT SECONDS CONCURRENCY
 *       keeps CONCURRENCY non-blocking connects in flight; each one that completes is
 *       closed with a RST (SO_LINGER 0: no TIME_WAIT, ports never run out) and replaced.
 *       Prints {"conns":N,"seconds":S,"rate":R,"errors":E,"medianUs":M}
 *   lb-conn-blaster serve PORT
 *       the backend: accepts on every address and closes at once; prints {"listening":PORT}
 *   lb-conn-blaster latency HOST PORT COUNT
 *       COUNT connects one after another; prints the connect time (SYN sent to SYN/ACK
 *       received: the first packet's trip through the balancer and back)
 *       {"count":N,"medianUs":M,"p90Us":P,"errors":E}
 *
 * A connect that has not completed after 3 s counts as an error and is dropped.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONC 4096
#define MAX_SAMPLES 2000000
#define TIMEOUT_NS 3000000000LL

static struct sockaddr_in target;
static long long started[65536];
static double *samples;
static long nsamples;

static long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int open_one(int ep) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  struct linger lg = {1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, 1 /* TCP_NODELAY */, &one, sizeof one);
  if (fd >= 65536) {
    close(fd);
    return -1;
  }
  started[fd] = now_ns();
  if (connect(fd, (struct sockaddr *)&target, sizeof target) < 0 && errno != EINPROGRESS) {
    close(fd);
    return -1;
  }
  struct epoll_event ev = {.events = EPOLLOUT | EPOLLERR | EPOLLHUP, .data.fd = fd};
  if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
    close(fd);
    return -1;
  }
  return fd;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double quantile(double q) {
  if (nsamples == 0) return 0;
  qsort(samples, nsamples, sizeof *samples, cmp);
  long i = (long)(q * nsamples);
  return samples[i >= nsamples ? nsamples - 1 : i];
}

/* Runs until `until_ns` or `max_conns` connections completed; returns completed count. */
static long run(int conc, long long until_ns, long max_conns, long *errors) {
  int ep = epoll_create1(EPOLL_CLOEXEC);
  int inflight = 0;
  long done = 0;
  struct epoll_event evs[256];
  long long last_sweep = now_ns();
  while (1) {
    long long t = now_ns();
    int stop = t >= until_ns || done + inflight >= max_conns;
    while (!stop && inflight < conc) {
      if (open_one(ep) < 0) {
        (*errors)++;
        break;
      }
      inflight++;
      if (done + inflight >= max_conns) break;
    }
    if (inflight == 0 && (t >= until_ns || done >= max_conns)) break;
    int n = epoll_wait(ep, evs, 256, 100);
    t = now_ns();
    for (int i = 0; i < n; i++) {
      int fd = evs[i].data.fd;
      int err = 0;
      socklen_t len = sizeof err;
      getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err == 0) {
        done++;
        if (nsamples < MAX_SAMPLES) samples[nsamples++] = (t - started[fd]) / 1000.0;
      } else {
        (*errors)++;
      }
      epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
      started[fd] = 0;
      close(fd);
      inflight--;
    }
    if (t - last_sweep > 500000000LL) {
      /* Drop connects that are stuck (lost SYN), counting them. */
      last_sweep = t;
      for (int fd = 0; fd < 65536; fd++) {
        if (started[fd] != 0 && t - started[fd] > TIMEOUT_NS) {
          if (epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL) == 0) {
            close(fd);
            inflight--;
            (*errors)++;
          }
          started[fd] = 0;
        }
      }
    }
  }
  close(ep);
  return done;
}

static int serve(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port), .sin_addr.s_addr = htonl(INADDR_ANY)};
  if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 65535) < 0) {
    perror("listen");
    return 1;
  }
  printf("{\"listening\":%d}\n", port);
  fflush(stdout);
  for (;;) {
    int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
    if (c >= 0) close(c);
  }
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "serve") == 0) return serve(atoi(argv[2]));
  if (argc < 5) {
    fprintf(stderr, "usage: %s rate HOST PORT SECONDS CONCURRENCY | latency HOST PORT COUNT\n", argv[0]);
    return 2;
  }
  memset(&target, 0, sizeof target);
  target.sin_family = AF_INET;
  target.sin_port = htons((unsigned short)atoi(argv[3]));
  if (inet_pton(AF_INET, argv[2], &target.sin_addr) != 1) {
    fprintf(stderr, "bad address %s\n", argv[2]);
    return 2;
  }
  samples = malloc(sizeof *samples * MAX_SAMPLES);
  long errors = 0;
  if (strcmp(argv[1], "rate") == 0 && argc >= 6) {
    double seconds = atof(argv[4]);
    int conc = atoi(argv[5]);
    if (conc < 1 || conc > MAX_CONC) conc = 32;
    long long t0 = now_ns();
    long done = run(conc, t0 + (long long)(seconds * 1e9), 1L << 62, &errors);
    double took = (now_ns() - t0) / 1e9;
    printf("{\"conns\":%ld,\"seconds\":%.3f,\"rate\":%.0f,\"errors\":%ld,\"medianUs\":%.0f}\n", done, took, done / took, errors, quantile(0.5));
    return 0;
  }
  if (strcmp(argv[1], "latency") == 0) {
    long count = atol(argv[4]);
    run(1, now_ns() + 600000000000LL, count, &errors);
    double med = quantile(0.5);
    double p90 = quantile(0.9);
    printf("{\"count\":%ld,\"medianUs\":%.0f,\"p90Us\":%.0f,\"errors\":%ld}\n", nsamples, med, p90, errors);
    return 0;
  }
  fprintf(stderr, "unknown mode %s\n", argv[1]);
  return 2;
}
