import Foundation

/// posix_spawn failed: the program and its errno.
package struct SpawnError: Error, CustomStringConvertible {
    package let program: String
    package let code: Int32

    package var description: String { "cannot start \(program): \(String(cString: strerror(code)))" }
}
