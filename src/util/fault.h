/*
 * fault.h — fault injection for the reliability tests.
 *
 * In a build with FAULTS=1 (-DRP_FAULTS=1), every write point of vol/ and of the hive writer
 * calls rp_fault("what"); with RP_FAULT_AT=N in the environment the Nth call fails (returns 1,
 * errno = EIO) and RP_FAULT_LOG=FILE appends one line per point reached.  In a normal build it
 * costs nothing.
 */
#ifndef RP_FAULT_H
#define RP_FAULT_H

#ifdef RP_FAULTS
int rp_fault(const char *point);
#else
static inline int rp_fault(const char *point)
{
	(void)point;
	return 0;
}
#endif

#endif
