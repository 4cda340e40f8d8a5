using System.Globalization;
using System.Text;

namespace ServerV3.Tokenization.Jinja;

/// <summary>
/// Splits template source into text and tag tokens the way Jinja2's lexer does with Hugging Face's
/// chat-template settings: trim_blocks (drop the newline after a block or comment tag),
/// lstrip_blocks (drop spaces before a block or comment tag that starts a line), "-" and "+"
/// whitespace control, and the trailing newline of the source removed.
/// </summary>
internal sealed class JinjaLexer
{
    // Longest first, so "//" is not read as two "/".
    private static readonly string[] Operators =
        ["//", "**", "==", "!=", ">=", "<=", "+", "-", "*", "/", "%", "~", "<", ">", "=", ".", ":", "|", ",", "(", ")", "[", "]", "{", "}"];

    private readonly string _source;
    private readonly List<int> _lineStarts = [0];
    private readonly List<Token> _tokens = [];
    private int _pos;
    private bool _lineStarting = true;

    private JinjaLexer(string source)
    {
        // Jinja2 reads \r\n and \r as \n and drops one trailing newline (keep_trailing_newline=False).
        source = source.Replace("\r\n", "\n", StringComparison.Ordinal).Replace('\r', '\n');
        _source = source.EndsWith('\n') ? source[..^1] : source;
        for (var i = 0; i < _source.Length; i++)
        {
            if (_source[i] == '\n')
                _lineStarts.Add(i + 1);
        }
    }

    public static List<Token> Tokenize(string source)
    {
        var lexer = new JinjaLexer(source);
        lexer.Run();
        return lexer._tokens;
    }

    private void Run()
    {
        while (_pos < _source.Length)
        {
            var tagStart = FindTagStart(_pos);
            if (tagStart < 0)
            {
                AddData(_pos, _source[_pos..]);
                break;
            }
            var kind = _source[tagStart + 1];
            var modifier = tagStart + 2 < _source.Length ? _source[tagStart + 2] : '\0';
            var data = _source[_pos..tagStart];
            if (modifier == '-')
                data = data.TrimEnd();
            else if (modifier != '+' && kind != '{')
                data = LeftStripBlock(data);
            AddData(_pos, data);
            _pos = tagStart + 2 + (modifier is '-' or '+' ? 1 : 0);
            switch (kind)
            {
                case '#':
                    SkipComment(tagStart);
                    break;
                case '%':
                    Add(TokenKind.BlockBegin, "{%", tagStart);
                    LexTag(TokenKind.BlockEnd, "%}");
                    break;
                default:
                    Add(TokenKind.VariableBegin, "{{", tagStart);
                    LexTag(TokenKind.VariableEnd, "}}");
                    break;
            }
        }
        Add(TokenKind.End, string.Empty, _source.Length);
    }

    private int FindTagStart(int from)
    {
        for (var i = _source.IndexOf('{', from); i >= 0 && i + 1 < _source.Length; i = _source.IndexOf('{', i + 1))
        {
            if (_source[i + 1] is '{' or '%' or '#')
                return i;
        }
        return -1;
    }

    // lstrip_blocks: spaces and tabs between the start of a line and a block tag are not output.
    private string LeftStripBlock(string data)
    {
        var lineStart = data.LastIndexOf('\n') + 1;
        if ((lineStart > 0 || _lineStarting) && lineStart < data.Length && data.AsSpan(lineStart).IsWhiteSpace())
            return data[..lineStart];
        return data;
    }

    private void SkipComment(int tagStart)
    {
        var end = _source.IndexOf("#}", _pos, StringComparison.Ordinal);
        if (end < 0)
            throw Error("Missing end of comment tag", tagStart);
        var modifier = end > _pos ? _source[end - 1] : '\0';
        _pos = end + 2;
        FinishTag(modifier);
    }

    private void LexTag(TokenKind endKind, string endText)
    {
        // Closing brackets still expected; "}}" inside "{...}" is two braces, not the end tag.
        var open = new Stack<char>();
        while (true)
        {
            while (_pos < _source.Length && char.IsWhiteSpace(_source[_pos]))
                _pos++;
            if (_pos >= _source.Length)
                throw Error($"Unexpected end of template, expected '{endText}'", _pos);
            if (open.Count == 0 && TryEndTag(endKind, endText))
                return;
            var start = _pos;
            var c = _source[_pos];
            if (c is '"' or '\'')
            {
                var value = ReadString(c);
                Add(TokenKind.String, _source[start.._pos], start, value);
            }
            else if (char.IsAsciiDigit(c))
                LexNumber();
            else if (char.IsLetter(c) || c == '_')
            {
                while (_pos < _source.Length && (char.IsLetterOrDigit(_source[_pos]) || _source[_pos] == '_'))
                    _pos++;
                Add(TokenKind.Name, _source[start.._pos], start);
            }
            else
            {
                var op = Array.Find(Operators, o => _source.AsSpan(_pos).StartsWith(o, StringComparison.Ordinal))
                    ?? throw Error($"Unexpected character '{c}'", _pos);
                TrackBrackets(open, op, _pos);
                _pos += op.Length;
                Add(TokenKind.Operator, op, start);
            }
        }
    }

    private void TrackBrackets(Stack<char> open, string op, int offset)
    {
        switch (op)
        {
            case "(":
                open.Push(')');
                break;
            case "[":
                open.Push(']');
                break;
            case "{":
                open.Push('}');
                break;
            case ")" or "]" or "}":
                if (open.Count == 0)
                    throw Error($"Unexpected '{op}'", offset);
                var expected = open.Pop();
                if (expected != op[0])
                    throw Error($"Unexpected '{op}', expected '{expected}'", offset);
                break;
        }
    }

    private bool TryEndTag(TokenKind endKind, string endText)
    {
        var rest = _source.AsSpan(_pos);
        var modifier = rest[0] is '-' or '+' && rest[1..].StartsWith(endText, StringComparison.Ordinal) ? rest[0] : '\0';
        // "+}}" is not an end tag in Jinja2; only blocks take "+".
        if (modifier == '+' && endKind == TokenKind.VariableEnd)
            modifier = '\0';
        if (modifier == '\0' && !rest.StartsWith(endText, StringComparison.Ordinal))
            return false;
        var start = _pos;
        _pos += endText.Length + (modifier == '\0' ? 0 : 1);
        Add(endKind, _source[start.._pos], start);
        FinishTag(endKind == TokenKind.VariableEnd && modifier != '-' ? '+' : modifier);
        return true;
    }

    // After a tag: "-" eats all following whitespace, "+" nothing, otherwise trim_blocks eats one newline.
    private void FinishTag(char modifier)
    {
        var start = _pos;
        if (modifier == '-')
        {
            while (_pos < _source.Length && char.IsWhiteSpace(_source[_pos]))
                _pos++;
        }
        else if (modifier != '+' && _pos < _source.Length && _source[_pos] == '\n')
        {
            _pos++;
        }
        _lineStarting = _pos > start && _source[_pos - 1] == '\n';
    }

    private void LexNumber()
    {
        var start = _pos;
        SkipDigits();
        var isFloat = false;
        // "x.0" indexes x; only digits not preceded by '.' can start a float.
        var afterDot = start > 0 && _source[start - 1] == '.';
        if (!afterDot && _pos + 1 < _source.Length && _source[_pos] == '.' && char.IsAsciiDigit(_source[_pos + 1]))
        {
            _pos++;
            SkipDigits();
            isFloat = true;
        }
        if (!afterDot && _pos < _source.Length && _source[_pos] is 'e' or 'E')
        {
            var save = _pos;
            _pos++;
            if (_pos < _source.Length && _source[_pos] is '+' or '-')
                _pos++;
            if (_pos < _source.Length && char.IsAsciiDigit(_source[_pos]))
            {
                SkipDigits();
                isFloat = true;
            }
            else
            {
                _pos = save;
            }
        }
        var text = _source[start.._pos];
        var digits = text.Replace("_", string.Empty, StringComparison.Ordinal);
        if (isFloat)
            Add(TokenKind.Float, text, start, double.Parse(digits, NumberStyles.Float, CultureInfo.InvariantCulture));
        else if (long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var integer))
            Add(TokenKind.Integer, text, start, integer);
        else
            throw Error($"Integer literal '{text}' is too large", start);
    }

    private void SkipDigits()
    {
        while (_pos < _source.Length && (char.IsAsciiDigit(_source[_pos]) || (_source[_pos] == '_' && _pos + 1 < _source.Length && char.IsAsciiDigit(_source[_pos + 1]))))
            _pos++;
    }

    // Python string literal escapes; an unknown escape keeps its backslash, as in Python.
    private string ReadString(char quote)
    {
        var start = _pos;
        var text = new StringBuilder();
        _pos++;
        while (true)
        {
            if (_pos >= _source.Length)
                throw Error("Unterminated string literal", start);
            var c = _source[_pos++];
            if (c == quote)
                return text.ToString();
            if (c != '\\' || _pos >= _source.Length)
            {
                text.Append(c);
                continue;
            }
            var e = _source[_pos++];
            switch (e)
            {
                case 'n': text.Append('\n'); break;
                case 't': text.Append('\t'); break;
                case 'r': text.Append('\r'); break;
                case '0' when _pos >= _source.Length || !char.IsAsciiDigit(_source[_pos]): text.Append('\0'); break;
                case 'a': text.Append('\a'); break;
                case 'b': text.Append('\b'); break;
                case 'f': text.Append('\f'); break;
                case 'v': text.Append('\v'); break;
                case '\\' or '\'' or '"': text.Append(e); break;
                case '\n': break;
                case 'x': text.Append(ReadHexEscape(2)); break;
                case 'u': text.Append(ReadHexEscape(4)); break;
                case 'U': text.Append(ReadHexEscape(8)); break;
                default: text.Append('\\').Append(e); break;
            }
        }
    }

    private string ReadHexEscape(int digits)
    {
        if (_pos + digits > _source.Length
            || !int.TryParse(_source.AsSpan(_pos, digits), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var code)
            || !Rune.IsValid(code))
            throw Error("Invalid escape sequence in string literal", _pos - 2);
        _pos += digits;
        return char.ConvertFromUtf32(code);
    }

    private void AddData(int start, string data)
    {
        if (data.Length > 0)
            Add(TokenKind.Data, data, start);
    }

    private void Add(TokenKind kind, string text, int offset, object? value = null) =>
        _tokens.Add(new Token(kind, text, PositionOf(offset), value));

    private SourcePosition PositionOf(int offset)
    {
        var line = _lineStarts.BinarySearch(offset);
        if (line < 0)
            line = ~line - 1;
        return new SourcePosition(line + 1, offset - _lineStarts[line] + 1);
    }

    private JinjaException Error(string reason, int offset)
    {
        var position = PositionOf(offset);
        return new JinjaException(reason, position.Line, position.Column);
    }
}
