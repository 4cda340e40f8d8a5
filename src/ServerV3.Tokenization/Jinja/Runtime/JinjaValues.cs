using System.Globalization;
using System.Text;

namespace ServerV3.Tokenization.Jinja;

/// <summary>
/// Python semantics of template values: None is null, ints are long, floats double, lists
/// <see cref="List{T}"/> (tuples <c>object?[]</c>), dicts insertion-ordered
/// <see cref="OrderedDictionary{TKey, TValue}"/>. Strings are measured and indexed by code point.
/// </summary>
internal static class JinjaValues
{
    // Jinja2's sandbox refuses ranges longer than this.
    private const int MaxRange = 100_000;

    public static string TypeName(object? value) => value switch
    {
        null => "NoneType",
        bool => "bool",
        long => "int",
        double => "float",
        string => "str",
        object?[] => "tuple",
        IReadOnlyList<object?> => "list",
        OrderedDictionary<string, object?> => "dict",
        JinjaNamespace => "Namespace",
        Undefined => "Undefined",
        JinjaCallable => "function",
        LoopInfo => "LoopContext",
        _ => value.GetType().Name,
    };

    public static bool IsTruthy(object? value) => value switch
    {
        null or Undefined => false,
        bool flag => flag,
        long integer => integer != 0,
        double number => number != 0,
        string text => text.Length > 0,
        IReadOnlyList<object?> list => list.Count > 0,
        OrderedDictionary<string, object?> dict => dict.Count > 0,
        _ => true,
    };

    public static bool IsNumber(object? value) => value is long or double or bool;

    public static double ToDouble(object? value) => value switch
    {
        long integer => integer,
        double number => number,
        bool flag => flag ? 1 : 0,
        _ => throw new JinjaException($"'{TypeName(value)}' is not a number"),
    };

    public static long ToLong(object? value) => value switch
    {
        long integer => integer,
        bool flag => flag ? 1 : 0,
        _ => throw new JinjaException($"'{TypeName(value)}' object cannot be interpreted as an integer"),
    };

    public static bool AreEqual(object? left, object? right)
    {
        if (left is Undefined || right is Undefined)
            return left is Undefined && right is Undefined;
        if (IsNumber(left) && IsNumber(right))
            return left is double || right is double ? ToDouble(left) == ToDouble(right) : ToLong(left) == ToLong(right);
        return (left, right) switch
        {
            (null, null) => true,
            (string a, string b) => string.Equals(a, b, StringComparison.Ordinal),
            (object?[] a, object?[] b) => a.Length == b.Length && a.Zip(b).All(p => AreEqual(p.First, p.Second)),
            (object?[], _) or (_, object?[]) => false,
            (IReadOnlyList<object?> a, IReadOnlyList<object?> b) => a.Count == b.Count && a.Zip(b).All(p => AreEqual(p.First, p.Second)),
            (OrderedDictionary<string, object?> a, OrderedDictionary<string, object?> b) =>
                a.Count == b.Count && a.All(e => b.TryGetValue(e.Key, out var other) && AreEqual(e.Value, other)),
            _ => ReferenceEquals(left, right),
        };
    }

    /// <summary>Ordering for &lt;, &gt;, sort, min and max: numbers, strings, or sequences of those.</summary>
    public static int Compare(object? left, object? right, string op = "<")
    {
        if (left is Undefined undefinedLeft)
            throw undefinedLeft.Error();
        if (right is Undefined undefinedRight)
            throw undefinedRight.Error();
        if (IsNumber(left) && IsNumber(right))
            return left is double || right is double ? ToDouble(left).CompareTo(ToDouble(right)) : ToLong(left).CompareTo(ToLong(right));
        if (left is string a && right is string b)
            return string.CompareOrdinal(a, b);
        if (left is IReadOnlyList<object?> x && right is IReadOnlyList<object?> y)
        {
            for (var i = 0; i < Math.Min(x.Count, y.Count); i++)
            {
                if (!AreEqual(x[i], y[i]))
                    return Compare(x[i], y[i], op);
            }
            return x.Count.CompareTo(y.Count);
        }
        throw new JinjaException($"'{op}' not supported between instances of '{TypeName(left)}' and '{TypeName(right)}'");
    }

    public static object? Arithmetic(string op, object? left, object? right)
    {
        if (left is Undefined undefinedLeft)
            throw undefinedLeft.Error();
        if (right is Undefined undefinedRight)
            throw undefinedRight.Error();
        if (IsNumber(left) && IsNumber(right))
            return NumberArithmetic(op, left, right);
        return (op, left, right) switch
        {
            ("+", string a, string b) => a + b,
            ("+", object?[] a, object?[] b) => a.Concat(b).ToArray(),
            ("+", IReadOnlyList<object?> a, IReadOnlyList<object?> b) when a is not object?[] && b is not object?[] => a.Concat(b).ToList(),
            ("*", string a, long or bool) => Repeat(a, ToLong(right)),
            ("*", long or bool, string b) => Repeat(b, ToLong(left)),
            ("*", IReadOnlyList<object?> a, long or bool) => Enumerable.Repeat(a, (int)Math.Max(0, ToLong(right))).SelectMany(x => x).ToList(),
            _ => throw new JinjaException($"unsupported operand type(s) for {op}: '{TypeName(left)}' and '{TypeName(right)}'"),
        };
    }

    private static object NumberArithmetic(string op, object? left, object? right)
    {
        if (op == "/")
        {
            var divisor = ToDouble(right);
            return divisor == 0 ? throw new JinjaException("division by zero") : ToDouble(left) / divisor;
        }
        if (left is double || right is double || (op == "**" && ToLong(right) < 0))
        {
            double a = ToDouble(left), b = ToDouble(right);
            if (op is "//" or "%" && b == 0)
                throw new JinjaException("float division by zero");
            return op switch
            {
                "+" => a + b,
                "-" => a - b,
                "*" => a * b,
                "//" => Math.Floor(a / b),
                "%" => a - (b * Math.Floor(a / b)),
                _ => Math.Pow(a, b),
            };
        }
        long x = ToLong(left), y = ToLong(right);
        if (op is "//" or "%" && y == 0)
            throw new JinjaException("integer division or modulo by zero");
        try
        {
            return op switch
            {
                "+" => checked(x + y),
                "-" => checked(x - y),
                "*" => checked(x * y),
                "//" => FloorDivide(x, y),
                "%" => x - (y * FloorDivide(x, y)),
                _ => Power(x, y),
            };
        }
        catch (OverflowException)
        {
            throw new JinjaException("integer overflow");
        }
    }

    private static long FloorDivide(long x, long y)
    {
        var quotient = x / y;
        return (x % y != 0) && ((x < 0) != (y < 0)) ? quotient - 1 : quotient;
    }

    private static long Power(long x, long y)
    {
        var result = 1L;
        for (var i = 0L; i < y; i++)
            result = checked(result * x);
        return result;
    }

    private static string Repeat(string text, long count) =>
        count <= 0 ? string.Empty : new StringBuilder(text.Length * (int)count).Insert(0, text, (int)count).ToString();

    public static object? Negate(object? value) => value switch
    {
        long integer => (object)-integer,
        double number => -number,
        bool flag => flag ? -1L : 0L,
        Undefined undefined => throw undefined.Error(),
        _ => throw new JinjaException($"bad operand type for unary -: '{TypeName(value)}'"),
    };

    public static bool Contains(object? container, object? item) => container switch
    {
        string text when item is string part => text.Contains(part, StringComparison.Ordinal),
        string => throw new JinjaException($"'in <string>' requires string as left operand, not {TypeName(item)}"),
        IReadOnlyList<object?> list => list.Any(element => AreEqual(element, item)),
        OrderedDictionary<string, object?> dict => item is string key && dict.ContainsKey(key),
        Undefined => false,
        _ => throw new JinjaException($"argument of type '{TypeName(container)}' is not iterable"),
    };

    /// <summary>The items a for loop or filter sees: list items, string characters, dict keys.</summary>
    public static IReadOnlyList<object?> Iterate(object? value) => value switch
    {
        IReadOnlyList<object?> list => list,
        string text => CodePoints(text),
        OrderedDictionary<string, object?> dict => dict.Keys.Cast<object?>().ToList(),
        Undefined => [],
        _ => throw new JinjaException($"'{TypeName(value)}' object is not iterable"),
    };

    public static long Length(object? value) => value switch
    {
        string text => CodePointCount(text),
        IReadOnlyList<object?> list => list.Count,
        OrderedDictionary<string, object?> dict => dict.Count,
        JinjaNamespace ns => ns.Attributes.Count,
        Undefined => 0,
        _ => throw new JinjaException($"object of type '{TypeName(value)}' has no len()"),
    };

    /// <summary><c>target.name</c>: methods and attributes first, then items (Jinja2's getattr).</summary>
    public static object? GetAttribute(object? target, string name)
    {
        switch (target)
        {
            case Undefined undefined:
                throw undefined.Error();
            case JinjaNamespace ns:
                return ns.Attributes.TryGetValue(name, out var attribute) ? attribute : Undefined.Member(target, name);
            case LoopInfo loop:
                return loop.GetAttribute(name);
        }
        if (ValueMethods.Find(target, name) is { } method)
            return method;
        return TryGetItem(target, name, out var item) ? item : Undefined.Member(target, name);
    }

    /// <summary><c>target[key]</c>: items first, then methods and attributes (Jinja2's getitem).</summary>
    public static object? GetItem(object? target, object? key)
    {
        if (target is Undefined undefined)
            throw undefined.Error();
        if (TryGetItem(target, key, out var item))
            return item;
        return key is string name ? GetAttribute(target, name) : Undefined.Member(target, key);
    }

    private static bool TryGetItem(object? target, object? key, out object? item)
    {
        item = null;
        switch (target, key)
        {
            case (OrderedDictionary<string, object?> dict, string name):
                return dict.TryGetValue(name, out item);
            case (IReadOnlyList<object?> list, long or bool):
                return TryGetIndex(list, ToLong(key), out item);
            case (string text, long or bool):
                return TryGetIndex(CodePoints(text), ToLong(key), out item);
            default:
                return false;
        }
    }

    private static bool TryGetIndex(IReadOnlyList<object?> items, long index, out object? item)
    {
        if (index < 0)
            index += items.Count;
        var found = index >= 0 && index < items.Count;
        item = found ? items[(int)index] : null;
        return found;
    }

    public static object? Slice(object? target, object? start, object? stop, object? step)
    {
        if (target is Undefined undefined)
            throw undefined.Error();
        var items = target switch
        {
            string text => CodePoints(text),
            IReadOnlyList<object?> list => list,
            _ => throw new JinjaException($"'{TypeName(target)}' object is not subscriptable"),
        };
        var indices = SliceIndices(items.Count, OptionalLong(start), OptionalLong(stop), OptionalLong(step));
        var selected = indices.Select(i => items[i]);
        return target switch
        {
            string => string.Concat(selected.Cast<string>()),
            object?[] => selected.ToArray(),
            _ => selected.ToList(),
        };
    }

    private static long? OptionalLong(object? value) => value is null or Undefined ? null : ToLong(value);

    // Python's slice.indices.
    private static IEnumerable<int> SliceIndices(int length, long? start, long? stop, long? step)
    {
        var stride = step ?? 1;
        if (stride == 0)
            throw new JinjaException("slice step cannot be zero");
        long lower = stride > 0 ? 0 : -1, upper = stride > 0 ? length : length - 1;
        long Clamp(long? bound, long fallback)
        {
            if (bound is not { } b)
                return fallback;
            if (b < 0)
                b += length;
            return Math.Clamp(b, lower, upper);
        }
        var first = Clamp(start, stride > 0 ? lower : upper);
        var end = Clamp(stop, stride > 0 ? upper : lower);
        for (var i = first; stride > 0 ? i < end : i > end; i += stride)
            yield return (int)i;
    }

    public static List<object?> Range(CallArguments arguments)
    {
        var values = arguments.Positional.Select(ToLong).ToArray();
        var (start, stop, step) = values.Length switch
        {
            1 => (0L, values[0], 1L),
            2 => (values[0], values[1], 1L),
            3 => (values[0], values[1], values[2]),
            _ => throw new JinjaException($"range expected 1 to 3 arguments, got {values.Length}"),
        };
        if (step == 0)
            throw new JinjaException("range() arg 3 must not be zero");
        var count = step > 0 ? Math.Max(0, (stop - start + step - 1) / step) : Math.Max(0, (start - stop - step - 1) / -step);
        if (count > MaxRange)
            throw new JinjaException($"Range too big. The sandbox blocks ranges larger than MAX_RANGE ({MaxRange}).");
        var result = new List<object?>((int)count);
        for (var i = 0L; i < count; i++)
            result.Add(start + (i * step));
        return result;
    }

    /// <summary>Follows a dotted attribute path such as "function.name" or "0" (map/selectattr/sort).</summary>
    public static object? GetPath(object? item, string path)
    {
        foreach (var part in path.Split('.'))
        {
            object? key = long.TryParse(part, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var index) ? index : part;
            item = GetItem(item, key);
            if (item is Undefined)
                return item;
        }
        return item;
    }

    public static List<object?> CodePoints(string text)
    {
        var result = new List<object?>(text.Length);
        foreach (var rune in text.EnumerateRunes())
            result.Add(rune.ToString());
        return result;
    }

    private static int CodePointCount(string text)
    {
        var count = 0;
        foreach (var c in text)
        {
            if (!char.IsLowSurrogate(c))
                count++;
        }
        return count;
    }
}
