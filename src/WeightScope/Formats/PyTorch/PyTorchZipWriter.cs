using System.Text;
using WeightScope.Formats.PyTorch.Pickle;
using WeightScope.Tensors;
using WeightScope.Writing;

namespace WeightScope.Formats.PyTorch;

/// <summary>
/// Writes a state dict as torch 1.13's <c>torch.save</c> does (<c>torch/serialization.py</c> <c>_save</c>, zip format):
/// <c>archive/data.pkl</c>, a protocol-2 pickle of a <c>collections.OrderedDict</c> mapping each name to
/// <c>torch._utils._rebuild_tensor_v2(persistent_load(('storage', torch.FloatStorage, key, 'cpu', numel)),
/// storage_offset, size, stride, False, OrderedDict())</c>; the storages as stored members <c>archive/data/&lt;key&gt;</c>
/// (keys <c>0</c>, <c>1</c>… in order of first use, members in sorted key order, data 64-byte aligned as
/// <c>PyTorchStreamWriter</c> pads them); <c>archive/byteorder</c> (<c>little</c>, as torch ≥ 2.1 writes; 1.13
/// ignores it); and <c>archive/version</c> (<c>3\n</c>). Everything in it is what <c>torch.load(weights_only=True)</c>
/// allows. A single tensor named <c>""</c> is saved bare, as <c>torch.save(tensor)</c> does.
/// <para>
/// Storage (<see cref="StorageLayout"/>): tensors that view one <see cref="TensorStorage"/> with one dtype (tied
/// weights, a weight and its transpose, slices of one buffer) become views of one torch storage holding the bytes they
/// span, with their own offsets and strides, so they stay tied when torch loads them. A strided view keeps its strides
/// over the bytes it spans, as torch saves it, rather than becoming a contiguous copy.
/// Big-endian tensors (from a NumPy <c>&gt;f4</c> array) and empty ones are written as contiguous copies.
/// </para>
/// </summary>
public sealed class PyTorchZipWriter : ITensorWriter
{
    private const string Folder = "archive";
    private const int Alignment = 64;
    private const int SetItemsBatch = 1000; // pickle's _BATCHSIZE
    private const string FormatVersion = "3\n";

    /// <inheritdoc />
    public string Name => "pt";

    /// <inheritdoc />
    public IReadOnlyList<string> Extensions { get; } = [".pth", ".pt"];

    /// <inheritdoc />
    public void Validate(IReadOnlyList<TensorEntry> tensors, WriteOptions options)
    {
        foreach (var t in tensors)
            if (StorageClass(t.DType) is null)
                throw new ModelWriteException($"pt: torch 1.13 has no storage type for '{t.Name}' ({t.DType.Name()}); " +
                                              (t.DType.IsQuantized()
                                                  ? "quantized tensors are not loadable with weights_only=True; convert it first (--dtype float32), which dequantizes it"
                                                  : $"convert it first (--dtype {Suggest(t.DType)})"));
    }

    /// <inheritdoc />
    public void Write(IReadOnlyList<TensorEntry> tensors, Stream output, WriteOptions options)
    {
        var layout = StorageLayout.Plan(tensors, options.Warning);
        var zip = new ZipWriter(output, Alignment);
        zip.AddMember($"{Folder}/data.pkl", DataPickle(tensors, layout));
        zip.AddMember($"{Folder}/byteorder", "little"u8);
        long written = 0;
        foreach (var record in layout.Records.OrderBy(r => r.Key, StringComparer.Ordinal))
        {
            var member = zip.BeginMember($"{Folder}/data/{record.Key}", record.ByteLength, deflate: false);
            record.WriteTo(member, options.Progress, ref written);
            zip.EndMember(member);
        }
        zip.AddMember($"{Folder}/version", Encoding.ASCII.GetBytes(FormatVersion));
        zip.Finish();
    }

    private static byte[] DataPickle(IReadOnlyList<TensorEntry> tensors, StorageLayout layout)
    {
        var p = new Pickler();
        if (tensors is [{ Name: "" } bare])
        {
            RebuildTensor(p, bare, layout);
        }
        else
        {
            EmptyOrderedDict(p);
            for (int i = 0; i < tensors.Count; i += SetItemsBatch)
            {
                p.Op(PickleOpcode.Mark);
                for (int j = i; j < Math.Min(tensors.Count, i + SetItemsBatch); j++)
                {
                    p.Unicode(tensors[j].Name);
                    RebuildTensor(p, tensors[j], layout);
                }
                p.Op(PickleOpcode.SetItems);
            }
        }
        p.Op(PickleOpcode.Stop);
        return p.ToArray();
    }

    // torch._utils._rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks), as
    // Tensor.__reduce_ex__ pickles a plain CPU tensor; the storage is a persistent id that torch.load resolves to data/<key>.
    private static void RebuildTensor(Pickler p, TensorEntry t, StorageLayout layout)
    {
        var view = layout.Views[t];
        p.Global("torch._utils", "_rebuild_tensor_v2");
        p.Op(PickleOpcode.Mark);
        p.Op(PickleOpcode.Mark);
        p.Unicode("storage");
        p.Global("torch", StorageClass(t.DType)!);
        p.Unicode(view.Record.Key);
        p.Unicode("cpu");
        p.Int(view.Record.ElementCount);
        p.Op(PickleOpcode.Tuple);
        p.Op(PickleOpcode.BinPersId);
        p.Int(view.Offset);
        p.IntTuple(t.Shape);
        p.IntTuple(view.Strides);
        p.Bool(false);
        EmptyOrderedDict(p);
        p.Op(PickleOpcode.Tuple);
        p.Op(PickleOpcode.Reduce);
    }

    private static void EmptyOrderedDict(Pickler p)
    {
        p.Global("collections", "OrderedDict");
        p.Op(PickleOpcode.EmptyTuple);
        p.Op(PickleOpcode.Reduce);
    }

    /// <summary>torch 1.13's legacy storage class for a dtype (<c>torch.FloatStorage</c>…); null where it has none we may write.</summary>
    internal static string? StorageClass(DType t) => t switch
    {
        DType.Float64 => "DoubleStorage",
        DType.Float32 => "FloatStorage",
        DType.Float16 => "HalfStorage",
        DType.BFloat16 => "BFloat16Storage",
        DType.Int64 => "LongStorage",
        DType.Int32 => "IntStorage",
        DType.Int16 => "ShortStorage",
        DType.Int8 => "CharStorage",
        DType.UInt8 => "ByteStorage",
        DType.Bool => "BoolStorage",
        DType.Complex64 => "ComplexFloatStorage",
        DType.Complex128 => "ComplexDoubleStorage",
        _ => null,
    };

    // A dtype torch 1.13 has that holds the values: the next wider signed integer for unsigned ones, float32 otherwise.
    private static string Suggest(DType t) => t switch
    {
        DType.UInt16 => "int32",
        DType.UInt32 or DType.UInt64 => "int64",
        _ => "float32",
    };
}
