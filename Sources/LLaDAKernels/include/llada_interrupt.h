#ifndef LLADA_INTERRUPT_H
#define LLADA_INTERRUPT_H

#ifdef __cplusplus
extern "C" {
#endif

// Stop flags and Ctrl-C (SIGINT) / SIGTERM for the command-line tools, async-signal-safe.
//
// A stop flag is an int that one generation polls (the forward pass between layers, the sampler
// between steps) and anyone may set from another thread or a signal handler.
//
// After llada_interrupt_install(), a signal writes "interrupted" to stderr and exits at once with
// 128 + signal, unless the program is in a stoppable phase (llada_interrupt_defer(1)): then the
// first signal only records its number and sets the watched stop flag (llada_interrupt_watch), so
// the generation stops and the program exits cleanly on its own; a second signal exits at once.
// Without install() nothing changes.

/// Atomic load / store of a stop flag.
int llada_stop_flag_get(const int *flag);
void llada_stop_flag_set(int *flag, int value);

void llada_interrupt_install(void);
/// 1 while the program polls llada_interrupt_requested() and stops by itself, 0 otherwise.
void llada_interrupt_defer(int on);
/// The signal number that interrupted a deferred phase, or 0.
int llada_interrupt_requested(void);
/// Sets or clears the recorded signal as a signal would (for tests); sets the watched flag too.
void llada_interrupt_request(int signal_number);
/// The stop flag a signal sets during the stoppable phase (NULL: none).
void llada_interrupt_watch(int *flag);

#ifdef __cplusplus
}
#endif

#endif
