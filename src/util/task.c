/* task.c — see task.h. */
#include "util/task.h"
#include "util/text.h"

#include <pthread.h>
#include <stdlib.h>

struct rp_task {
	pthread_t thread;
	int started;
	void (*fn)(void *);
	void *arg;
};

static void *run(void *p)
{
	rp_task *t = p;
	t->fn(t->arg);
	return NULL;
}

rp_task *rp_task_start(void (*fn)(void *), void *arg)
{
	rp_task *t = rp_xcalloc(1, sizeof *t);
	t->fn = fn;
	t->arg = arg;
	t->started = pthread_create(&t->thread, NULL, run, t) == 0;
	if (!t->started)
		fn(arg);
	return t;
}

void rp_task_wait(rp_task *t)
{
	if (!t)
		return;
	if (t->started)
		pthread_join(t->thread, NULL);
	free(t);
}
