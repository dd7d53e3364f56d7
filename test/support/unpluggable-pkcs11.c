/*
 * A test-only PKCS#11 module that stands in front of a real one (UNPLUG_REAL_MODULE) and
 * answers CKR_DEVICE_REMOVED while the file named by UNPLUG_FILE exists: a token that can
 * be pulled out and plugged back in. While the file named by UNPLUG_REFUSE_LOGIN_FILE
 * exists, C_Login answers CKR_PIN_INCORRECT: a token that came back with another PIN. With
 * UNPLUG_REFUSE_SIGN or UNPLUG_REFUSE_KEY_PAIR (a mechanism number), C_SignInit or
 * C_GenerateKeyPair refuses that mechanism though the real module lists it: a token whose
 * list overclaims. While the file named by UNPLUG_COPY_FILE exists, C_CopyObject answers the
 * CKR written in it (decimal): a token that cannot copy objects, or goes away as it copies. (p11-kit server would do, but Debian 12's p11-kit
 * 0.24.1 does not forward CKM_AES_GCM.)
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CK_PTR *
#define CK_DECLARE_FUNCTION(returnType, name) returnType name
#define CK_DECLARE_FUNCTION_POINTER(returnType, name) returnType(*name)
#define CK_CALLBACK_FUNCTION(returnType, name) returnType(*name)
#ifndef NULL_PTR
#define NULL_PTR 0
#endif
#include "pkcs11.h"

static CK_FUNCTION_LIST_PTR real;
static CK_FUNCTION_LIST mine;

static int exists(const char *variable) {
  const char *f = getenv(variable);
  return f && access(f, F_OK) == 0;
}
static int unplugged(void) { return exists("UNPLUG_FILE"); }
#define GUARD                 \
  if (unplugged()) return CKR_DEVICE_REMOVED;

static CK_RV w_Initialize(CK_VOID_PTR a) { GUARD return real->C_Initialize(a); }
static CK_RV w_GetSlotList(CK_BBOOL p, CK_SLOT_ID_PTR l, CK_ULONG_PTR c) { GUARD return real->C_GetSlotList(p, l, c); }
static CK_RV w_GetTokenInfo(CK_SLOT_ID s, CK_TOKEN_INFO_PTR i) { GUARD return real->C_GetTokenInfo(s, i); }
static CK_RV w_OpenSession(CK_SLOT_ID s, CK_FLAGS f, CK_VOID_PTR a, CK_NOTIFY n, CK_SESSION_HANDLE_PTR h) { GUARD return real->C_OpenSession(s, f, a, n, h); }
static CK_RV w_Login(CK_SESSION_HANDLE h, CK_USER_TYPE u, CK_UTF8CHAR_PTR p, CK_ULONG l) {
  GUARD
  if (exists("UNPLUG_REFUSE_LOGIN_FILE")) return CKR_PIN_INCORRECT;
  return real->C_Login(h, u, p, l);
}
static CK_RV w_FindObjectsInit(CK_SESSION_HANDLE h, CK_ATTRIBUTE_PTR t, CK_ULONG n) { GUARD return real->C_FindObjectsInit(h, t, n); }
static CK_RV w_EncryptInit(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE k) { GUARD return real->C_EncryptInit(h, m, k); }
static CK_RV w_Encrypt(CK_SESSION_HANDLE h, CK_BYTE_PTR d, CK_ULONG dl, CK_BYTE_PTR o, CK_ULONG_PTR ol) { GUARD return real->C_Encrypt(h, d, dl, o, ol); }
static CK_RV w_DecryptInit(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE k) { GUARD return real->C_DecryptInit(h, m, k); }
static CK_RV w_Decrypt(CK_SESSION_HANDLE h, CK_BYTE_PTR d, CK_ULONG dl, CK_BYTE_PTR o, CK_ULONG_PTR ol) { GUARD return real->C_Decrypt(h, d, dl, o, ol); }
static CK_RV w_GenerateKey(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_ATTRIBUTE_PTR t, CK_ULONG n, CK_OBJECT_HANDLE_PTR k) { GUARD return real->C_GenerateKey(h, m, t, n, k); }
static CK_RV w_GenerateRandom(CK_SESSION_HANDLE h, CK_BYTE_PTR b, CK_ULONG l) { GUARD return real->C_GenerateRandom(h, b, l); }
static int refused(const char *variable, CK_MECHANISM_PTR m) {
  const char *v = getenv(variable);
  return v && m && m->mechanism == strtoul(v, NULL, 0);
}
static CK_RV w_SignInit(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE k) {
  GUARD
  if (refused("UNPLUG_REFUSE_SIGN", m)) return CKR_MECHANISM_INVALID;
  return real->C_SignInit(h, m, k);
}
static CK_RV w_GenerateKeyPair(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_ATTRIBUTE_PTR pub, CK_ULONG npub, CK_ATTRIBUTE_PTR priv, CK_ULONG npriv, CK_OBJECT_HANDLE_PTR pubKey, CK_OBJECT_HANDLE_PTR privKey) {
  GUARD
  if (refused("UNPLUG_REFUSE_KEY_PAIR", m)) return CKR_MECHANISM_INVALID;
  return real->C_GenerateKeyPair(h, m, pub, npub, priv, npriv, pubKey, privKey);
}
static CK_RV w_CopyObject(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_PTR t, CK_ULONG n, CK_OBJECT_HANDLE_PTR copy) {
  GUARD
  const char *f = getenv("UNPLUG_COPY_FILE");
  FILE *answer = f ? fopen(f, "r") : NULL;
  if (answer) {
    unsigned long rv;
    int read = fscanf(answer, "%lu", &rv);
    fclose(answer);
    if (read == 1) return (CK_RV)rv;
  }
  return real->C_CopyObject(h, o, t, n, copy);
}

CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR out) {
  if (!real) {
    const char *path = getenv("UNPLUG_REAL_MODULE");
    void *lib = path ? dlopen(path, RTLD_NOW | RTLD_LOCAL) : NULL;
    if (!lib) return CKR_GENERAL_ERROR;
    CK_C_GetFunctionList get = (CK_C_GetFunctionList)dlsym(lib, "C_GetFunctionList");
    if (!get || get(&real) != CKR_OK) return CKR_GENERAL_ERROR;
    memcpy(&mine, real, sizeof mine);
    mine.C_Initialize = w_Initialize;
    mine.C_GetSlotList = w_GetSlotList;
    mine.C_GetTokenInfo = w_GetTokenInfo;
    mine.C_OpenSession = w_OpenSession;
    mine.C_Login = w_Login;
    mine.C_FindObjectsInit = w_FindObjectsInit;
    mine.C_EncryptInit = w_EncryptInit;
    mine.C_Encrypt = w_Encrypt;
    mine.C_DecryptInit = w_DecryptInit;
    mine.C_Decrypt = w_Decrypt;
    mine.C_GenerateKey = w_GenerateKey;
    mine.C_GenerateRandom = w_GenerateRandom;
    mine.C_SignInit = w_SignInit;
    mine.C_GenerateKeyPair = w_GenerateKeyPair;
    mine.C_CopyObject = w_CopyObject;
  }
  *out = &mine;
  return CKR_OK;
}
