/* Host test of the flash model store's logic (firmware/hal/store-flash) and of the checkpoint
 * store on top of it, against a simulated flash that enforces what real STM32 flash does:
 * erase by whole units to 0xff, program aligned whole words once per erase (as on the H7 and
 * L4, whose ECC refuses a second program). Built with -no-pie so the simulated flash has a
 * 32-bit address like the real one. Prints one line per failed check; exit status = failures. */
#include <stdio.h>
#include <string.h>

#include "checkpoint.h"
#include "crc32.h"
#include "protocol_gen.h"
#include "../../firmware/hal/hal.h"
#include "../../firmware/hal/store-flash/flash_driver.h"

static int g_fail;
#define CHECK(cond) do { if (!(cond)) { printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); g_fail++; } } while (0)

/* ---- geometry of the four Nucleo parts (board JSON facts) ---- */
static const flash_run_t F412[] = { { 4, 16384 }, { 1, 65536 }, { 7, 131072 } };
static const flash_run_t F746[] = { { 4, 32768 }, { 1, 131072 }, { 3, 262144 } };
static const flash_run_t H743[] = { { 16, 131072 } };
static const flash_run_t L4R5[] = { { 512, 4096 } };
#define GEOM(runs, word) { 0x08000000u, runs, sizeof runs / sizeof runs[0], word }

static void test_geometry(void) {
  const flash_geom_t f4 = GEOM(F412, 4), f7 = GEOM(F746, 4), h7 = GEOM(H743, 32), l4 = GEOM(L4R5, 8);
  flash_unit_t u, a, b;
  CHECK(flash_size(&f4) == 1u << 20 && flash_size(&f7) == 1u << 20 && flash_size(&h7) == 2u << 20 && flash_size(&l4) == 2u << 20);
  CHECK(flash_unit_at(&f4, 0x08000000u, &u) && u.index == 0 && u.start == 0x08000000u && u.end == 0x08004000u);
  CHECK(flash_unit_at(&f4, 0x0801ffffu, &u) && u.index == 4 && u.start == 0x08010000u && u.end == 0x08020000u);
  CHECK(flash_unit_at(&f4, 0x08020000u, &u) && u.index == 5 && u.end == 0x08040000u);
  CHECK(flash_unit_at(&f4, 0x080fffffu, &u) && u.index == 11);
  CHECK(!flash_unit_at(&f4, 0x08100000u, &u) && !flash_unit_at(&f4, 0x07ffffffu, &u));
  CHECK(flash_unit_at(&f7, 0x080c0000u, &u) && u.index == 7 && u.start == 0x080c0000u && u.end == 0x08100000u);
  CHECK(flash_unit_at(&h7, 0x08100000u, &u) && u.index == 8); /* bank 2, sector 0 */
  CHECK(flash_unit_at(&l4, 0x08101234u, &u) && u.index == 257 && u.start == 0x08101000u);
  /* the store's first address: the first boundary at or after the firmware image */
  CHECK(flash_boundary_at_or_after(&f4, 0x08000000u) == 0x08000000u);
  CHECK(flash_boundary_at_or_after(&f4, 0x08011111u) == 0x08020000u);
  CHECK(flash_boundary_at_or_after(&f4, 0x08010000u) == 0x08010000u);
  CHECK(flash_boundary_at_or_after(&f7, 0x08015000u) == 0x08018000u);
  CHECK(flash_boundary_at_or_after(&h7, 0x08000001u) == 0x08020000u);
  CHECK(flash_boundary_at_or_after(&l4, 0x08015010u) == 0x08016000u);
  CHECK(flash_boundary_at_or_after(&l4, 0x09000000u) == 0x08200000u);
  /* which units a range needs erased */
  CHECK(flash_units_covering(&f4, 0x0800c000u, 0x8000u, &a, &b) && a.index == 3 && b.index == 4);
  CHECK(flash_units_covering(&f4, 0x08020000u, 1u, &a, &b) && a.index == 5 && b.index == 5);
  CHECK(flash_units_covering(&h7, 0x080f0000u, 0x20000u, &a, &b) && a.index == 7 && b.index == 8); /* across the banks */
  CHECK(!flash_units_covering(&h7, 0x081fffffu, 2u, &a, &b)); /* past the end */
  CHECK(!flash_units_covering(&h7, 0x08000000u, 0u, &a, &b));
  CHECK(!flash_units_covering(&h7, 0xffffff00u, 0x200u, &a, &b)); /* no 32-bit wrap */
}

/* ---- word buffer ---- */
static uint8_t g_words[256];
static int g_emits, g_bad_emit;
static int collect(void *ctx, uint32_t addr, const uint8_t *word) {
  uint32_t w = *(uint32_t *)ctx;
  if (addr % w || addr + w > sizeof g_words) g_bad_emit++;
  else memcpy(g_words + addr, word, w);
  g_emits++;
  return 0;
}

static void test_wordbuf(void) {
  uint8_t data[200];
  for (int i = 0; i < 200; i++) data[i] = (uint8_t)(i * 13 + 5);
  static const uint32_t words[] = { 4, 8, 32 };
  for (int k = 0; k < 3; k++) {
    uint32_t w = words[k];
    flash_wordbuf_t b = { 0 };
    memset(g_words, 0xff, sizeof g_words);
    g_emits = g_bad_emit = 0;
    /* chunks of odd sizes, as a serial upload delivers them, starting on a word boundary */
    uint32_t at = 0;
    static const uint32_t chunks[] = { 1, 7, 30, 3, 64, 95 };
    for (int c = 0; c < 6; c++) {
      CHECK(flash_wordbuf_put(&b, w, at, data + at, chunks[c], collect, &w) == 0);
      at += chunks[c];
    }
    CHECK(at == 200);
    CHECK(g_emits == (int)(200 / w)); /* only whole words so far */
    CHECK(flash_wordbuf_flush(&b, w, collect, &w) == 0);
    CHECK(g_emits == (int)((200 + w - 1) / w) && g_bad_emit == 0);
    CHECK(memcmp(g_words, data, 200) == 0);
    for (uint32_t i = 200; i < sizeof g_words; i++) CHECK(g_words[i] == 0xff); /* padded with the erased value */
    CHECK(flash_wordbuf_flush(&b, w, collect, &w) == 0 && g_emits == (int)((200 + w - 1) / w)); /* nothing left */
  }
  /* a write starting inside a word leaves the bytes before it erased */
  uint32_t w = 8;
  flash_wordbuf_t b = { 0 };
  memset(g_words, 0xff, sizeof g_words);
  CHECK(flash_wordbuf_put(&b, w, 13, data, 5, collect, &w) == 0 && flash_wordbuf_flush(&b, w, collect, &w) == 0);
  CHECK(g_words[8] == 0xff && g_words[12] == 0xff && memcmp(g_words + 13, data, 3) == 0);
  CHECK(memcmp(g_words + 16, data + 3, 2) == 0 && g_words[18] == 0xff);
  /* going back into a word that had to be flushed would program it twice */
  flash_wordbuf_t c = { 0 };
  CHECK(flash_wordbuf_put(&c, w, 0, data, 3, collect, &w) == 0);
  CHECK(flash_wordbuf_put(&c, w, 5, data, 2, collect, &w) == FLASH_ERR_REWRITE);
  flash_wordbuf_t d = { 0 };
  CHECK(flash_wordbuf_put(&d, 12, 0, data, 3, collect, &w) == FLASH_ERR_WORD);
}

/* ---- a simulated flash under store_flash.c: 2 x 1 KB, then 4 x 4 KB units, 32-byte words ---- */
#define SIM_BYTES (2 * 1024 + 4 * 4096)
uint8_t g_sim[SIM_BYTES] __attribute__((aligned(4096)));
static uint8_t g_programmed[SIM_BYTES / 32];
static const flash_run_t SIM_RUNS[] = { { 2, 1024 }, { 4, 4096 } };
static flash_geom_t g_sim_geom = { 0, SIM_RUNS, 2, 32 };
static int g_erases, g_double_programs, g_fail_programs;
/* __model_store_start (the firmware image's end) is g_sim + 100: -Wl,--defsym in the test's build. */
#define SIM_ORIGIN ((uint32_t)(uintptr_t)g_sim)

const flash_geom_t *flash_geometry(void) { return &g_sim_geom; }

int flash_erase_unit(const flash_unit_t *u) {
  memset(g_sim + (u->start - SIM_ORIGIN), 0xff, u->end - u->start);
  for (uint32_t a = u->start; a < u->end; a += 32) g_programmed[(a - SIM_ORIGIN) / 32] = 0;
  g_erases++;
  return 0;
}

int flash_program_word(uint32_t addr, const uint8_t *word) {
  uint32_t off = addr - SIM_ORIGIN;
  if (off % 32 || off >= SIM_BYTES) return -1;
  if (g_fail_programs) return -3; /* power lost, or the controller refused */
  if (g_programmed[off / 32]) { g_double_programs++; return -2; }
  g_programmed[off / 32] = 1;
  memcpy(g_sim + off, word, 32);
  return 0;
}

/* An upload as commands.c does it: erase just ahead of each chunk, write, flush at the end. */
static int upload(const uint8_t *blob, uint32_t n, uint32_t chunk) {
  uint32_t erased_to = 0;
  for (uint32_t off = 0; off < n; off += chunk) {
    uint32_t len = n - off < chunk ? n - off : chunk;
    if (off + len > erased_to && hal_store_erase(erased_to, off + len - erased_to, &erased_to) != 0) return -1;
    if (hal_store_write(off, blob + off, len) != 0) return -2;
  }
  return hal_store_flush();
}

static void test_store_and_checkpoints(void) {
  g_sim_geom.origin = SIM_ORIGIN;
  CHECK(SIM_ORIGIN == (uintptr_t)g_sim); /* the simulated flash has a 32-bit address */
  memset(g_sim, 0xa5, sizeof g_sim);     /* "firmware" and stale data */
  /* the store starts on the first unit boundary after the image (g_sim + 100 -> 1024) */
  CHECK(hal_store_base() == g_sim + 1024 && hal_store_bytes() == SIM_BYTES - 1024);
  CHECK(hal_store_word_bytes() == 32);
  uint32_t s, e;
  hal_store_unit(0, &s, &e);
  CHECK(s == 0 && e == 1024);
  hal_store_unit(5000, &s, &e);
  CHECK(s == 1024 && e == 1024 + 4096); /* absolute [2048, 6144) */

  static uint8_t blob[9000];
  for (uint32_t i = 0; i < sizeof blob; i++) blob[i] = (uint8_t)(i * 31 + 7);
  CHECK(upload(blob, sizeof blob, 248) == 0); /* the protocol's chunk size: not a multiple of 32 */
  CHECK(memcmp(hal_store_base(), blob, sizeof blob) == 0);
  CHECK(g_sim[99] == 0xa5 && g_sim[1023] == 0xa5); /* the firmware's units were never erased */
  CHECK(g_double_programs == 0);
  CHECK(g_erases == 3); /* units [1024,2048), [2048,6144), [6144,10240) */

  /* checkpoints at the top, 32-byte words: state padded, record in its own word */
  uint8_t state[100];
  for (int i = 0; i < 100; i++) state[i] = (uint8_t)(i * 7 + 1);
  uint32_t written = 0, sc = 0, step = 0, crc = crc32_update(0, state, 100);
  CHECK(checkpoint_save(0xaaaa, 7, state, 100, sizeof blob, &written, &sc) == 0);
  CHECK(sc == crc && written == 128 + 32);
  const uint8_t *found = 0;
  CHECK(checkpoint_find(0xaaaa, 100, &found, &step, &sc) == 0 && step == 7 && sc == crc);
  CHECK(found == hal_store_base() + hal_store_bytes() - 32 - 128);
  CHECK(memcmp(hal_store_base(), blob, sizeof blob) == 0); /* the model is untouched */
  /* the next save goes to slot B, the unit below slot A's: no word is programmed twice */
  uint32_t top_unit = hal_store_bytes() - 4096;
  state[0] ^= 0xff;
  CHECK(checkpoint_save(0xaaaa, 8, state, 100, sizeof blob, &written, &sc) == 0);
  CHECK(checkpoint_find(0xaaaa, 100, &found, &step, &sc) == 0 && step == 8 && found[0] == state[0]);
  CHECK(found == hal_store_base() + top_unit - 32 - 128);
  CHECK(g_double_programs == 0);
  /* a save that fails after its erase (in slot A) leaves slot B's checkpoint */
  g_fail_programs = 1;
  CHECK(checkpoint_save(0xaaaa, 99, state, 100, sizeof blob, &written, &sc) == TLP_ERR_BAD_STATE);
  g_fail_programs = 0;
  CHECK(checkpoint_find(0xaaaa, 100, &found, &step, &sc) == 0 && step == 8);
  CHECK(checkpoint_save(0xaaaa, 10, state, 100, sizeof blob, &written, &sc) == 0); /* into slot A again */
  CHECK(checkpoint_find(0xaaaa, 100, &found, &step, &sc) == 0 && step == 10 && found == hal_store_base() + hal_store_bytes() - 32 - 128);
  CHECK(g_double_programs == 0);
  /* a model reaching into slot A's erase unit: erasing it would hit the model, so the save is
   * refused; the room reported is what lies above the first unit boundary over the model. A
   * model reaching into slot B's unit leaves slot A alone in use. */
  CHECK(checkpoint_save(0xaaaa, 9, state, 100, top_unit + 10, &written, &sc) == TLP_ERR_TOO_LARGE && written == 0);
  CHECK(checkpoint_save(0xaaaa, 9, state, 100, top_unit - 10, &written, &sc) == 0); /* the unit below is the model's */
  CHECK(checkpoint_save(0xaaaa, 9, state, 100, top_unit, &written, &sc) == 0);      /* ending on the boundary is fine */
  CHECK(checkpoint_save(0xaaaa, 9, state, 4096, top_unit - 10, &written, &sc) == TLP_ERR_TOO_LARGE); /* would erase the model's unit */
  CHECK(written == 4096 - 32);
  CHECK(checkpoint_find(0xaaaa, 100, &found, &step, &sc) == 0 && step == 9);
  CHECK(checkpoint_find(0xbbbb, 100, &found, &step, &sc) == TLP_CKPT_OTHER_MODEL);
  CHECK(g_double_programs == 0);
  /* a new upload erases and rewrites from the bottom, whatever was there */
  blob[0] ^= 1;
  CHECK(upload(blob, 3000, 248) == 0 && memcmp(hal_store_base(), blob, 3000) == 0 && g_double_programs == 0);
  /* erasing outside the flash is refused, never clamped */
  CHECK(hal_store_erase(hal_store_bytes() - 1, 2, &e) != 0);
}

int main(void) {
  test_geometry();
  test_wordbuf();
  test_store_and_checkpoints();
  printf("%d failed\n", g_fail);
  return g_fail;
}
