// The frames on the wire (SignalWire, no crypto and no sockets) are part of the signal protocol's surface.
@_exported import SignalWire
