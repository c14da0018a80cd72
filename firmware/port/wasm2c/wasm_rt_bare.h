/* The bare-metal runtime's extra entry points (the rest is wasm-rt.h). */
#ifndef TL_WASM_RT_BARE_H
#define TL_WASM_RT_BARE_H
#include <setjmp.h>
#include <stdint.h>

/* Makes `target` the place traps and uncaught exceptions longjmp to; call right before setjmp. */
void wasm_rt_bare_enter(jmp_buf *target);
/* Forgets every table allocation: call before re-instantiating the module. */
void wasm_rt_bare_reset_tables(void);

/* Trap code the port reports when the canary after the sandbox was found overwritten (only an
 * unchecked "none" build can do that). Distinct from wasm-rt.h's trap codes. */
#define TL_TRAP_SANDBOX 64

/* The sentinel right after the sandbox (the bytes wasm code can reach in this memcheck mode):
 * 1 if intact; 0 if overwritten, in which case it is counted and re-armed. */
int wasm_rt_bare_canary_intact(void);
uint32_t wasm_rt_bare_canary_breaks(void);
/* Bytes the generated code can reach: the mask region plus its guard tail, or the bounded buffer. */
uint32_t wasm_rt_bare_sandbox_bytes(void);

#endif
