// as-pect runs the engine's unit tests (test/engine/*.spec.ts) inside wasm.
export default {
  entries: ["test/engine/**/*.spec.ts"],
  include: ["test/engine/**/*.include.ts"],
  disclude: [/node_modules/],
  async instantiate(memory, createImports, instantiate, binary) {
    // Kernel tests never read a blob; a refused read makes any accidental use visible.
    const imports = { env: { memory, tl_read: () => 1 } };
    return instantiate(binary, createImports(imports));
  },
  outputBinary: false,
};
