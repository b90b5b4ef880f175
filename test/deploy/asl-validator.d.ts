/** asl-validator 4 ships JavaScript only: the call these tests make. */
declare module 'asl-validator' {
  export default function aslValidator(definition: unknown): { isValid: boolean; errors: unknown[] };
}
