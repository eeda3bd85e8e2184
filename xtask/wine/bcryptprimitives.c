/*
 * A stand-in for Windows' bcryptprimitives.dll, for Wine versions that lack it.
 *
 * Rust >= 1.78 binaries import ProcessPrng from bcryptprimitives.dll to seed HashMap
 * keys and the like; Wine 8 has no such DLL, so every Rust .exe fails to start there
 * (status 53). This DLL exports ProcessPrng and implements it with RtlGenRandom
 * (advapi32's SystemFunction036), which Wine does have. `cargo xtask setup-wine`
 * builds it with mingw and copies it into the Wine prefix's system32.
 */
#include <windows.h>

/* RtlGenRandom; ntsecapi.h only declares it behind a macro. */
BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

/* Fills data[0..len) with random bytes; TRUE on success, like the real one. */
BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    while (len > 0) {
        ULONG chunk = len > 0x40000000 ? 0x40000000 : (ULONG)len;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}

BOOL WINAPI DllMain(HINSTANCE instance, DWORD reason, LPVOID reserved)
{
    (void)instance;
    (void)reason;
    (void)reserved;
    return TRUE;
}
