namespace ClusterContext.Protocol.Messages;

/// <summary>What a subscription to a pod port does with the traffic it matches; the values are part of the wire format.</summary>
internal enum IncomingMode : byte
{
    /// <summary>The pod's app still serves every request; the session gets a copy, and its answers are dropped.</summary>
    Mirror = 1,

    /// <summary>Matched requests (or connections) are served by the session instead of the pod's app.</summary>
    Steal = 2,
}
