import Foundation

/// The seam for "what time is it": licenses expire, leases lapse and days roll over by it,
/// so tests substitute a clock they can move.
public protocol WallClock: Sendable {
    func now() -> Date
}

/// The real clock.
public struct SystemWallClock: WallClock {
    public init() {}
    public func now() -> Date { Date() }
}
