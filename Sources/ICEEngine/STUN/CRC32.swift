import CZlib

/// CRC-32 (ISO-HDLC, the zlib polynomial) for STUN's FINGERPRINT, computed by zlib.
enum CRC32 {
    static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return 0 }
        return UInt32(truncatingIfNeeded: crc32(0, base.assumingMemoryBound(to: Bytef.self), uInt(bytes.count)))
    }
}
