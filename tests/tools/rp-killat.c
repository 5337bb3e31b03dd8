/*
 * rp-killat — runs a command and SIGKILLs it a given number of milliseconds after it started
 * (the kill sweep, tests/scenario/t_killsweep.sh; not installed).
 *
 *   rp-killat MS CMD [ARG...]   prints "killed" when the kill came while CMD ran, otherwise
 *                               "exit N" (or "signal N"); CMD's output goes to /dev/null
 *   rp-killat time CMD [ARG...] runs CMD to its end and prints "exit N MS" (its run time)
 *
 * The delay is measured from just before exec with CLOCK_MONOTONIC, so a sweep over MS covers
 * the command's run without the jitter of a shell's sleep.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: rp-killat MS|time CMD [ARG...]\n");
		return 2;
	}
	int timing = strcmp(argv[1], "time") == 0;
	char *end;
	long ms = timing ? -1 : strtol(argv[1], &end, 10);
	if (!timing && (*end || ms < 0)) {
		fprintf(stderr, "rp-killat: bad delay %s\n", argv[1]);
		return 2;
	}
	long long t0 = now_us();
	pid_t pid = fork();
	if (pid < 0) {
		perror("rp-killat: fork");
		return 2;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		if (null >= 0) {
			dup2(null, 1);
			dup2(null, 2);
		}
		execvp(argv[2], argv + 2);
		_exit(127);
	}
	int status = 0, killed = 0;
	if (!timing) {
		long long until = t0 + (long long)ms * 1000;
		for (;;) {
			pid_t r = waitpid(pid, &status, WNOHANG);
			if (r == pid)
				break;
			long long left = until - now_us();
			if (left <= 0) {
				kill(pid, SIGKILL);
				killed = 1;
				break;
			}
			/* Poll in small steps so that an early exit is seen. */
			struct timespec ts = {0, (left > 500 ? 500 : left) * 1000};
			nanosleep(&ts, NULL);
		}
	}
	if (timing || killed)
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	long long took = (now_us() - t0) / 1000;
	if (killed && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
		printf("killed\n");
	else if (WIFEXITED(status) && timing)
		printf("exit %d %lld\n", WEXITSTATUS(status), took);
	else if (WIFEXITED(status))
		printf("exit %d\n", WEXITSTATUS(status));
	else
		printf("signal %d\n", WTERMSIG(status));
	return 0;
}
