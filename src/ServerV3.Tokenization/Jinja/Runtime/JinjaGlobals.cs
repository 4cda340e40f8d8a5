using System.Globalization;
using System.Text;

namespace ServerV3.Tokenization.Jinja;

/// <summary>
/// Global functions of Hugging Face's chat-template environment: Jinja2's range, namespace and
/// dict, plus Hugging Face's raise_exception and strftime_now.
/// </summary>
internal static class JinjaGlobals
{
    public static Scope CreateScope(TimeProvider clock)
    {
        var scope = new Scope(null);
        scope.Set("range", new JinjaCallable("range", JinjaValues.Range));
        scope.Set("namespace", new JinjaCallable("namespace", CreateNamespace));
        scope.Set("dict", new JinjaCallable("dict", a => new OrderedDictionary<string, object?>(a.Named, StringComparer.Ordinal)));
        scope.Set("raise_exception", new JinjaCallable("raise_exception", RaiseException));
        scope.Set("strftime_now", new JinjaCallable("strftime_now", a => StrftimeNow(clock, a)));
        return scope;
    }

    private static JinjaNamespace CreateNamespace(CallArguments arguments)
    {
        var ns = new JinjaNamespace();
        foreach (var initial in arguments.Positional)
        {
            if (initial is not OrderedDictionary<string, object?> dict)
                throw new JinjaException("namespace() takes a dict and keyword arguments");
            foreach (var (key, value) in dict)
                ns.Attributes[key] = value;
        }
        foreach (var (key, value) in arguments.Named)
            ns.Attributes[key] = value;
        return ns;
    }

    private static object? RaiseException(CallArguments arguments)
    {
        var message = arguments.Bind("raise_exception", "message").Get(0);
        throw new JinjaRaisedException(PythonFormat.Str(message));
    }

    // Python's time.strftime for the directives templates use (e.g. "%d %b %Y" in Llama 3).
    private static string StrftimeNow(TimeProvider clock, CallArguments arguments)
    {
        var format = arguments.Bind("strftime_now", "format").Get(0) as string
            ?? throw new JinjaException("strftime_now() needs a format string");
        var now = clock.GetLocalNow();
        var culture = CultureInfo.InvariantCulture;
        var result = new StringBuilder();
        for (var i = 0; i < format.Length; i++)
        {
            if (format[i] != '%' || i + 1 == format.Length)
            {
                result.Append(format[i]);
                continue;
            }
            var directive = format[++i];
            result.Append(directive switch
            {
                'Y' => now.ToString("yyyy", culture),
                'y' => now.ToString("yy", culture),
                'm' => now.ToString("MM", culture),
                'd' => now.ToString("dd", culture),
                'e' => now.Day.ToString(culture).PadLeft(2),
                'H' => now.ToString("HH", culture),
                'I' => now.ToString("hh", culture),
                'M' => now.ToString("mm", culture),
                'S' => now.ToString("ss", culture),
                'p' => now.Hour < 12 ? "AM" : "PM",
                'b' => now.ToString("MMM", culture),
                'B' => now.ToString("MMMM", culture),
                'a' => now.ToString("ddd", culture),
                'A' => now.ToString("dddd", culture),
                'j' => now.DayOfYear.ToString("000", culture),
                '%' => "%",
                _ => throw new JinjaException($"strftime_now: unsupported directive '%{directive}'"),
            });
        }
        return result.ToString();
    }
}
