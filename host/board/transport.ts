// A serial port as a byte pipe: QEMU's or the native firmware's pty, or a real board's
// ST-LINK virtual COM port. Only opening, writing, receiving and closing live here.
import { SerialPort } from "serialport";

export class TransportError extends Error {}

export interface TransportOptions {
  baudRate?: number;
  /** Give up opening after this long. */
  openTimeoutMs?: number;
}

export class SerialTransport {
  private listeners: ((data: Uint8Array) => void)[] = [];
  private closed = false;

  private constructor(private readonly port: SerialPort, readonly path: string) {
    port.on("data", (d: Buffer) => { for (const l of this.listeners) l(new Uint8Array(d)); });
    // Errors after open (device unplugged, QEMU gone) surface through pending requests' timeouts;
    // without a listener Node would crash the process on them.
    port.on("error", () => {});
    port.on("close", () => { this.closed = true; });
  }

  static async open(path: string, opts: TransportOptions = {}): Promise<SerialTransport> {
    const timeout = opts.openTimeoutMs ?? 5000;
    const port = new SerialPort({ path, baudRate: opts.baudRate ?? 115200, autoOpen: false });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new TransportError(`opening serial port ${path} timed out after ${timeout} ms`)), timeout);
      port.open((err) => {
        clearTimeout(timer);
        if (!err) return resolve();
        const msg = err.message;
        const hint = /ENOENT|No such file/.test(msg) ? "the device does not exist: is the board connected / the emulator running?"
          : /EACCES|Permission/.test(msg) ? "permission denied: add yourself to the dialout group or check the device's mode"
            : /EBUSY|lock/i.test(msg) ? "the port is in use by another program"
              : "check the path";
        reject(new TransportError(`cannot open serial port ${path}: ${msg} (${hint})`));
      });
    });
    return new SerialTransport(port, path);
  }

  get isOpen(): boolean { return !this.closed && this.port.isOpen; }

  onData(listener: (data: Uint8Array) => void): () => void {
    this.listeners.push(listener);
    return () => { this.listeners = this.listeners.filter((l) => l !== listener); };
  }

  async write(bytes: Uint8Array): Promise<void> {
    if (!this.isOpen) throw new TransportError(`serial port ${this.path} is closed`);
    await new Promise<void>((resolve, reject) => {
      this.port.write(Buffer.from(bytes), (err) => (err ? reject(new TransportError(`writing to ${this.path}: ${err.message}`)) : undefined));
      this.port.drain((err) => (err ? reject(new TransportError(`writing to ${this.path}: ${err.message}`)) : resolve()));
    });
  }

  async close(): Promise<void> {
    this.listeners = [];
    if (!this.port.isOpen) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 2000); // never hang on close
      this.port.close(() => { clearTimeout(timer); resolve(); });
    });
    this.closed = true;
  }
}
