using System.Globalization;
using System.Text;

namespace ServerV3.Tokenization.Jinja;

/// <summary>
/// Python's <c>str()</c> and <c>repr()</c>, which Jinja2 uses to print values: "None", "True",
/// "1.0", "['a', 1]", "{'k': 'v'}".
/// </summary>
internal static class PythonFormat
{
    public static string Str(object? value) => value switch
    {
        string text => text,
        Undefined => string.Empty,
        _ => Repr(value),
    };

    public static string Repr(object? value) => value switch
    {
        null => "None",
        bool flag => flag ? "True" : "False",
        long integer => integer.ToString(CultureInfo.InvariantCulture),
        double number => Float(number),
        string text => QuoteString(text),
        Undefined => "Undefined",
        object?[] tuple => tuple.Length == 1 ? $"({Repr(tuple[0])},)" : $"({string.Join(", ", tuple.Select(Repr))})",
        IReadOnlyList<object?> list => $"[{string.Join(", ", list.Select(Repr))}]",
        OrderedDictionary<string, object?> dict => $"{{{string.Join(", ", dict.Select(e => $"{QuoteString(e.Key)}: {Repr(e.Value)}"))}}}",
        JinjaNamespace ns => $"<Namespace {Repr(ns.Attributes)}>",
        JinjaCallable function => $"<function {function.Name}>",
        LoopInfo => "<LoopContext>",
        _ => value.ToString() ?? string.Empty,
    };

    /// <summary>Python's float repr: shortest round-trip digits, scientific below 1e-4 and from 1e16.</summary>
    public static string Float(double value)
    {
        if (double.IsNaN(value))
            return "nan";
        if (double.IsInfinity(value))
            return value > 0 ? "inf" : "-inf";
        if (value == 0)
            return double.IsNegative(value) ? "-0.0" : "0.0";

        // "E16" is not shortest; "R" is, in either fixed or exponent form.
        var shortest = Math.Abs(value).ToString("R", CultureInfo.InvariantCulture);
        var exponentAt = shortest.IndexOf('E', StringComparison.Ordinal);
        var mantissa = exponentAt < 0 ? shortest : shortest[..exponentAt];
        var exponent = exponentAt < 0 ? 0 : int.Parse(shortest.AsSpan(exponentAt + 1), CultureInfo.InvariantCulture);
        var point = mantissa.IndexOf('.', StringComparison.Ordinal);
        var digits = point < 0 ? mantissa : mantissa.Remove(point, 1);
        var integerDigits = (point < 0 ? mantissa.Length : point) + exponent;
        var leadingZeros = digits.Length - digits.TrimStart('0').Length;
        digits = digits.Trim('0');
        // Decimal exponent of the first significant digit.
        var decimalExponent = integerDigits - leadingZeros - 1;

        var text = new StringBuilder(value < 0 ? "-" : string.Empty);
        if (decimalExponent is < -4 or >= 16)
        {
            text.Append(digits[0]);
            if (digits.Length > 1)
                text.Append('.').Append(digits, 1, digits.Length - 1);
            text.Append('e').Append(decimalExponent < 0 ? '-' : '+').Append(Math.Abs(decimalExponent).ToString("00", CultureInfo.InvariantCulture));
        }
        else if (decimalExponent < 0)
        {
            text.Append("0.").Append('0', -decimalExponent - 1).Append(digits);
        }
        else if (digits.Length <= decimalExponent + 1)
        {
            text.Append(digits).Append('0', decimalExponent + 1 - digits.Length).Append(".0");
        }
        else
        {
            text.Append(digits, 0, decimalExponent + 1).Append('.').Append(digits, decimalExponent + 1, digits.Length - decimalExponent - 1);
        }
        return text.ToString();
    }

    // Python picks single quotes unless the text has a single quote and no double quote.
    private static string QuoteString(string text)
    {
        var quote = text.Contains('\'', StringComparison.Ordinal) && !text.Contains('"', StringComparison.Ordinal) ? '"' : '\'';
        var result = new StringBuilder(text.Length + 2).Append(quote);
        foreach (var c in text)
        {
            switch (c)
            {
                case '\\': result.Append(@"\\"); break;
                case '\n': result.Append(@"\n"); break;
                case '\r': result.Append(@"\r"); break;
                case '\t': result.Append(@"\t"); break;
                case var q when q == quote: result.Append('\\').Append(q); break;
                case < ' ' or '\x7f': result.Append(CultureInfo.InvariantCulture, $"\\x{(int)c:x2}"); break;
                default: result.Append(c); break;
            }
        }
        return result.Append(quote).ToString();
    }
}
