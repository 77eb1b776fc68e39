using System.Text;

namespace WeightScope.Formats.TensorFlow;

/// <summary>Checkpoint keys: their display form, and the naming conventions TensorFlow's savers use.</summary>
internal static class TfKeys
{
    /// <summary><c>kHeaderEntryKey</c>: the empty key holds the <c>BundleHeaderProto</c> (and sorts first).</summary>
    public const string HeaderKey = "";

    /// <summary>The TF2 object-graph checkpoint's serialized <c>TrackableObjectGraph</c> (a string tensor).</summary>
    public const string ObjectGraphKey = "_CHECKPOINTABLE_OBJECT_GRAPH";

    /// <summary>Suffix of every TF2 object-based variable key (<c>layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE</c>).</summary>
    public const string VariableValueSuffix = "/.ATTRIBUTES/VARIABLE_VALUE";

    /// <summary>Marks a slot variable in TF2 keys (<c>…/kernel/.OPTIMIZER_SLOT/optimizer/m/.ATTRIBUTES/VARIABLE_VALUE</c>).</summary>
    public const string OptimizerSlotMarker = "/.OPTIMIZER_SLOT/";

    /// <summary>The root's save counter, written by <c>tf.train.Checkpoint</c>.</summary>
    public const string SaveCounterKey = "save_counter" + VariableValueSuffix;

    /// <summary>Slice keys (<c>checkpoint::EncodeTensorNameSlice</c>) start with OrderedCode's encoding of the number 0.</summary>
    public const byte SliceKeyFirstByte = 0x00;

    private static readonly UTF8Encoding StrictUtf8 = new(false, true);

    /// <summary>The key as text; bytes that are not UTF-8 are shown as <c>\xNN</c> so every key has a distinct name.</summary>
    public static string Display(ReadOnlySpan<byte> key)
    {
        try
        {
            var s = StrictUtf8.GetString(key);
            if (!s.Contains('\\') && !s.Any(char.IsControl)) return s;
        }
        catch (DecoderFallbackException) { }
        var sb = new StringBuilder(key.Length * 2);
        foreach (byte b in key)
        {
            if (b is >= 0x20 and < 0x7f && b != (byte)'\\') sb.Append((char)b);
            else sb.Append($"\\x{b:x2}");
        }
        return sb.ToString();
    }

    /// <summary>A string tensor element: text when the bytes are UTF-8 (vocabularies, file names), raw bytes otherwise (serialized protos).</summary>
    public static object TextOrBytes(ReadOnlySpan<byte> bytes)
    {
        try { return StrictUtf8.GetString(bytes); }
        catch (DecoderFallbackException) { return bytes.ToArray(); }
    }

    /// <summary>
    /// True for optimizer state: TF2 slot variables and the <c>optimizer/…</c> subtree (iterations, hyper-parameters),
    /// and the TF1 <c>tf.train</c> optimizers' slot suffixes (<c>var/Adam</c>, <c>var/Adam_1</c>, <c>var/Momentum</c>…)
    /// and Adam's <c>beta1_power</c>/<c>beta2_power</c> accumulators.
    /// </summary>
    public static bool IsOptimizerState(string key)
    {
        if (key.Contains(OptimizerSlotMarker, StringComparison.Ordinal) || key.StartsWith("optimizer/", StringComparison.Ordinal)) return true;
        int slash = key.LastIndexOf('/');
        string last = slash < 0 ? key : key[(slash + 1)..];
        if (slash < 0) return last is "beta1_power" or "beta2_power";
        return Tf1SlotNames.Contains(last);
    }

    private static readonly HashSet<string> Tf1SlotNames = new(StringComparer.Ordinal)
    {
        "Adam", "Adam_1", "Momentum", "RMSProp", "RMSProp_1", "Adagrad", "Adadelta", "Adadelta_1", "Ftrl", "Ftrl_1",
    };
}
