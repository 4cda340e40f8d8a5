namespace ServerV3.Tokenization.Jinja;

/// <summary>The <c>loop</c> variable inside a for loop.</summary>
internal sealed class LoopInfo(IReadOnlyList<object?> items)
{
    public int Index0 { get; set; }

    public object? GetAttribute(string name) => name switch
    {
        "index" => (long)Index0 + 1,
        "index0" => (long)Index0,
        "revindex" => (long)(items.Count - Index0),
        "revindex0" => (long)(items.Count - Index0 - 1),
        "first" => Index0 == 0,
        "last" => Index0 == items.Count - 1,
        "length" => (long)items.Count,
        "depth" => 1L,
        "depth0" => 0L,
        "previtem" => Index0 > 0 ? items[Index0 - 1] : Undefined.Variable("loop.previtem"),
        "nextitem" => Index0 + 1 < items.Count ? items[Index0 + 1] : Undefined.Variable("loop.nextitem"),
        "cycle" => new JinjaCallable("loop.cycle", Cycle),
        _ => Undefined.Member(this, name),
    };

    private object? Cycle(CallArguments arguments)
    {
        if (arguments.Positional.Count == 0)
            throw new JinjaException("loop.cycle() needs at least one value");
        return arguments.Positional[Index0 % arguments.Positional.Count];
    }
}
