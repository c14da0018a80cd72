/* Cortex-M reset and vectors: copy .data, zero .bss, paint the stack (for the high-water
 * mark in GET_STATS), enable the FPU, run main. Symbols come from the generated link.ld. */
#include <stdint.h>
#include <string.h>

#include "../hal.h"
#include "cortexm.h"
#include "../../core/link.h"

extern uint32_t __data_load[], __data_start[], __data_end[], __bss_start[], __bss_end[];
extern uint32_t __stack_bottom[], __stack_top[];

int main(void);
void SysTick_Handler(void);

#define STACK_PAINT 0xa5a5a5a5u

/* Runs before the stack is in use beyond this frame, so it paints below its own frame only. */
__attribute__((noreturn)) void Reset_Handler(void) {
  memcpy(__data_start, __data_load, (size_t)((uint8_t *)__data_end - (uint8_t *)__data_start));
  memset(__bss_start, 0, (size_t)((uint8_t *)__bss_end - (uint8_t *)__bss_start));
  uint32_t *sp;
  __asm volatile("mov %0, sp" : "=r"(sp));
  for (uint32_t *p = __stack_bottom; p < sp - 16; p++) *p = STACK_PAINT;
#if defined(__ARM_FP)
  CPACR |= 0xfu << 20; /* CP10, CP11 full access: the FPU */
  __asm volatile("dsb\n isb");
#endif
  main();
  for (;;) {}
}

uint32_t hal_stack_bytes(void) { return (uint32_t)((uint8_t *)__stack_top - (uint8_t *)__stack_bottom); }

uint32_t hal_stack_used(void) {
  const uint32_t *p = __stack_bottom;
  while (p < __stack_top && *p == STACK_PAINT) p++;
  return (uint32_t)((uint8_t *)__stack_top - (uint8_t *)p);
}

/* Any fault: report the faulting PC to the host (unsolicited FAULT frame), then stop. */
__attribute__((used)) void fault_report(const uint32_t *frame) {
  link_send_fault(frame[6]);
  for (;;) {}
}

__attribute__((naked)) void Fault_Handler(void) {
  __asm volatile(
      "tst lr, #4\n"
      "ite eq\n"
      "mrseq r0, msp\n"
      "mrsne r0, psp\n"
      "b fault_report\n");
}

static void Default_Handler(void) { for (;;) {} }

typedef void (*vector_t)(void);
__attribute__((section(".isr_vector"), used)) const vector_t g_vectors[16] = {
  (vector_t)__stack_top, Reset_Handler,
  Default_Handler, /* NMI */
  Fault_Handler,   /* HardFault */
  Fault_Handler,   /* MemManage */
  Fault_Handler,   /* BusFault */
  Fault_Handler,   /* UsageFault */
  0, 0, 0, 0,
  Default_Handler, /* SVCall */
  Default_Handler, /* DebugMon */
  0,
  Default_Handler, /* PendSV */
  SysTick_Handler,
};
