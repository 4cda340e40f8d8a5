namespace ServerV3.Protocol;

/// <summary>An occurrence of <see cref="Marker"/> at <see cref="Index"/>.</summary>
internal readonly record struct MarkerMatch(int Index, string Marker)
{
    public int End => Index + Marker.Length;
}
