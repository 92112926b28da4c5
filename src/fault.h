/*
 * fault.h - named crash points for the chaos tests.
 *
 * SLUICE_FAULT=point:N makes the process _exit(77) the N-th time it passes `point` (N defaults to
 * 1). A test aid, always compiled in: when the variable is unset a pass costs one branch.
 */
#ifndef SLUICE_FAULT_H
#define SLUICE_FAULT_H

void fault_init(void);
void fault_point(const char *name);

#endif
