// The engine as the front ends see it: one import for the layers below.
//
//   STUN           codec, addresses and the client-transaction schedule (no NIO)
//   ICE            candidates, gathering, the ICE agent, TURN client, transports, NAT diagnostics
//   Signal         signal protocol, sealing, client and server (one node, in memory)
//   SignalCluster  several signal nodes sharing presence and routing through PostgreSQL
//   Mesh           peer connections, the mesh agent and its data plane; feeds StatusRecorder
@_exported import STUN
@_exported import ICE
@_exported import Signal
@_exported import SignalCluster
@_exported import Mesh
