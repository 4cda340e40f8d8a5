namespace ServerV3.Engine.Moe;

/// <summary>One copy of a routed expert: slot <see cref="Slot"/> of rank <see cref="Rank"/>'s expert stack.</summary>
public readonly record struct ExpertReplica(int Rank, int Slot);
