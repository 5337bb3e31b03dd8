/*
 * task.h — one function run on a thread of its own while the caller goes on: a SHA-256 of a
 * hive-sized buffer beside the caller's next step (the machines rdprescue runs on have more
 * than one core).  The function must touch nothing the caller changes until rp_task_wait.
 */
#ifndef RP_TASK_H
#define RP_TASK_H

typedef struct rp_task rp_task;

/* Starts fn(arg); when no thread can be started, fn(arg) runs now, before this returns. */
rp_task *rp_task_start(void (*fn)(void *), void *arg);
/* Waits until fn has returned, and frees t (NULL: nothing). */
void rp_task_wait(rp_task *t);

#endif
