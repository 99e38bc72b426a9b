#ifndef LLADA_INTERRUPT_H
#define LLADA_INTERRUPT_H

#ifdef __cplusplus
extern "C" {
#endif

// Ctrl-C (SIGINT) and SIGTERM for the command-line tools, async-signal-safe.
//
// After llada_interrupt_install(), a signal writes "interrupted" to stderr and exits at once with
// 128 + signal, unless the program is in a stoppable phase (llada_interrupt_defer(1)): then the
// first signal only sets a flag that the forward pass checks between layers and the sampler's
// observer turns into a stop, so the program can exit cleanly on its own; a second signal exits
// at once. Without install() nothing changes: the flag stays clear unless requested directly.

void llada_interrupt_install(void);
/// 1 while the program polls llada_interrupt_requested() and stops by itself, 0 otherwise.
void llada_interrupt_defer(int on);
/// The signal number that interrupted a deferred phase, or 0.
int llada_interrupt_requested(void);
/// Sets or clears the flag as a signal would (for tests and embedding programs).
void llada_interrupt_request(int signal_number);

#ifdef __cplusplus
}
#endif

#endif
