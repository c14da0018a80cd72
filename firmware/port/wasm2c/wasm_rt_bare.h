/* The bare-metal runtime's extra entry points (the rest is wasm-rt.h). */
#ifndef TL_WASM_RT_BARE_H
#define TL_WASM_RT_BARE_H
#include <setjmp.h>

/* Makes `target` the place traps and uncaught exceptions longjmp to; call right before setjmp. */
void wasm_rt_bare_enter(jmp_buf *target);
/* Forgets every table allocation: call before re-instantiating the module. */
void wasm_rt_bare_reset_tables(void);

#endif
