/*
 * The pod sandbox's first process: holds the pod's namespaces, reaps the
 * zombies re-parented to it, and exits 0 on SIGTERM or SIGINT. Built static
 * by scripts/cluster/build-node-images.sh.
 */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

static void stop(int sig) { (void)sig; _exit(0); }

static void reap(int sig) {
  (void)sig;
  while (waitpid(-1, 0, WNOHANG) > 0) {}
}

int main(void) {
  struct sigaction quit = {.sa_handler = stop}, child = {.sa_handler = reap, .sa_flags = SA_NOCLDSTOP};
  if (getpid() != 1) write(2, "pause: warning: not pid 1\n", 26);
  if (sigaction(SIGTERM, &quit, 0) || sigaction(SIGINT, &quit, 0) || sigaction(SIGCHLD, &child, 0)) return 1;
  for (;;) pause();
}
