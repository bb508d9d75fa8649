/// A Unix time in milliseconds as UTC calendar fields, by integer arithmetic (no `gmtime` and its time-zone lock
/// per call: reports of thousands of peers format several times each).
struct UTCTime {
    let year, month, day, hour, minute, second, millisecond: Int64

    init(millis: Int64) {
        let (seconds, milli) = millis.quotientAndRemainder(dividingBy: 1000)
        var t = milli < 0 ? seconds - 1 : seconds
        millisecond = milli < 0 ? milli + 1000 : milli
        var days = t / 86400
        t -= days * 86400
        if t < 0 { t += 86400; days -= 1 }
        (year, month, day) = Self.civil(fromDays: days)
        hour = t / 3600
        minute = t % 3600 / 60
        second = t % 60
    }

    /// `2026-11-25T12:34:56.789Z` (RFC 3339), or with `separator` 32 and no zone, `2026-11-25 12:34:56.789`.
    func text(separator: UInt8 = UInt8(ascii: "T"), zone: Bool = true) -> String {
        var out = ReportBytes(capacity: 24)
        write(into: &out, separator: separator, zone: zone)
        return String(decoding: out.bytes, as: UTF8.self)
    }

    /// ``text(separator:zone:)`` written into a report.
    func write(into out: inout ReportBytes, separator: UInt8 = UInt8(ascii: "T"), zone: Bool = true) {
        if (0...9999).contains(year) { out.put(decimal: UInt64(year), zeroPaddedTo: 4) } else { out.put(decimal: year) }
        out.put(byte: 45)
        out.put(decimal: UInt64(month), zeroPaddedTo: 2)
        out.put(byte: 45)
        out.put(decimal: UInt64(day), zeroPaddedTo: 2)
        out.put(byte: separator)
        out.put(decimal: UInt64(hour), zeroPaddedTo: 2)
        out.put(byte: 58)
        out.put(decimal: UInt64(minute), zeroPaddedTo: 2)
        out.put(byte: 58)
        out.put(decimal: UInt64(second), zeroPaddedTo: 2)
        out.put(byte: 46)
        out.put(decimal: UInt64(millisecond), zeroPaddedTo: 3)
        if zone { out.put(byte: UInt8(ascii: "Z")) }
    }

    /// Year, month and day of a day count from 1970-01-01 in the proleptic Gregorian calendar (Howard Hinnant's
    /// `civil_from_days`).
    static func civil(fromDays days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
