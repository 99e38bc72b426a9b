// See llada_interrupt.h. The handler only touches lock-free atomics and calls write/_exit.
#include "llada_interrupt.h"
#include <signal.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t requested = 0;
static volatile sig_atomic_t deferring = 0;
static int *watched = NULL;

int llada_stop_flag_get(const int *flag) { return __atomic_load_n(flag, __ATOMIC_ACQUIRE); }
void llada_stop_flag_set(int *flag, int value) { __atomic_store_n(flag, value, __ATOMIC_RELEASE); }

static void set_watched(int value) {
    int *flag = __atomic_load_n(&watched, __ATOMIC_ACQUIRE);
    if (flag) __atomic_store_n(flag, value, __ATOMIC_RELEASE);
}

static void on_signal(int sig) {
    if (__atomic_load_n(&deferring, __ATOMIC_SEQ_CST) && !__atomic_load_n(&requested, __ATOMIC_SEQ_CST)) {
        __atomic_store_n(&requested, sig, __ATOMIC_SEQ_CST);
        set_watched(1);
        return;
    }
    static const char message[] = "interrupted\n";
    ssize_t ignored = write(STDERR_FILENO, message, sizeof message - 1);
    (void)ignored;
    _exit(128 + sig);
}

void llada_interrupt_install(void) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_signal;
    action.sa_flags = SA_RESTART;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, NULL);
    sigaction(SIGTERM, &action, NULL);
}

void llada_interrupt_defer(int on) { __atomic_store_n(&deferring, on ? 1 : 0, __ATOMIC_SEQ_CST); }

int llada_interrupt_requested(void) { return __atomic_load_n(&requested, __ATOMIC_RELAXED); }

void llada_interrupt_request(int signal_number) {
    __atomic_store_n(&requested, signal_number, __ATOMIC_SEQ_CST);
    if (signal_number) set_watched(1);
}

void llada_interrupt_watch(int *flag) { __atomic_store_n(&watched, flag, __ATOMIC_RELEASE); }
