// The engine as the front ends see it: one import for the four layers below.
//
//   STUN    codec, addresses and the client-transaction schedule (no NIO)
//   ICE     candidates, gathering, the ICE agent, TURN client, transports, NAT diagnostics
//   Signal  signal protocol, sealing, client and server
//   Mesh    peer connections, the mesh agent and its data plane; feeds StatusRecorder
@_exported import STUN
@_exported import ICE
@_exported import Signal
@_exported import Mesh
