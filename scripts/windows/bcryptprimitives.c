/*
 * A stand-in for Windows' bcryptprimitives.dll, which wine 8 lacks: Rust's
 * standard library (1.78 and later) imports ProcessPrng from it for its
 * random numbers (HashMap keys), so without it no Rust DLL or program loads.
 * ProcessPrng fills the buffer from the system's generator; here that is
 * RtlGenRandom (advapi32's SystemFunction036), which wine has.
 *
 * Built by scripts/test-windows.mjs with mingw-w64 for the wine prefix's
 * system32 only; never shipped.
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length) {
  while (length > 0) {
    ULONG chunk = length > 0x10000000 ? 0x10000000 : (ULONG)length;
    if (!SystemFunction036(data, chunk)) return FALSE;
    data += chunk;
    length -= chunk;
  }
  return TRUE;
}
