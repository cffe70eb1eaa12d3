// Public surface of the keystore (proto-spec/keystore.md).
export {
  createKeystore, openKeystore, changePassphrase, updateKeystore, keystoreExists, readKeystoreInfo,
  KEYSTORE_FILE_MODE, type CreateOptions, type WriteOptions, type KeystoreInfo
} from './keystore.js'
export { DEFAULT_KDF, sealKeystore, unsealKeystore, passphraseBytes, type Secrets, type DeriveKey, type SealOptions } from './seal.js'
export { parseKeystore, KDF_BOUNDS, FORMAT_VERSION, type KeystoreHeader, type ParsedKeystore } from './format.js'
