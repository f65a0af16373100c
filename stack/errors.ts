/** A stack failure that names the component it concerns; the CLI prints it without a stack trace. */
export class StackError extends Error {
  readonly component: string;

  constructor(component: string, message: string) {
    super(`${component}: ${message}`);
    this.name = 'StackError';
    this.component = component;
  }
}
