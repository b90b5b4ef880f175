// AssemblyScript's integer types as tsc reads them in abi.ts, the file both compilers share.
type i32 = number;
type u8 = number;
