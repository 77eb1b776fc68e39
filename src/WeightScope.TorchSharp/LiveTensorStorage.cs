using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TorchSharp;
using WeightScope.Tensors;

namespace WeightScope.TorchSharp;

/// <summary>
/// The values of a live TorchSharp tensor, read when asked (so a view made during training shows the values of the
/// moment it is read). A CPU tensor is read in place, without a copy; a tensor on another device or laid out with
/// gaps is copied to a contiguous CPU tensor for the read. Holds the tensor, so it stays alive while viewed.
/// </summary>
internal sealed class LiveTensorStorage : TensorStorage
{
    private readonly torch.Tensor _tensor;
    private readonly int _itemSize;

    public LiveTensorStorage(torch.Tensor tensor, string key) : base(key)
    {
        _tensor = tensor;
        _itemSize = (int)tensor.ElementSize;
        ByteLength = checked(tensor.NumberOfElements * _itemSize);
    }

    /// <inheritdoc />
    public override long ByteLength { get; }

    private bool InPlace => _tensor.device_type == DeviceType.CPU && _tensor.is_contiguous();

    /// <inheritdoc />
    protected override void ReadCore(long offset, Span<byte> destination)
    {
        if (destination.Length == 0) return;
        if (InPlace)
        {
            CopyFrom(_tensor, offset, destination);
            return;
        }
        using var scope = torch.NewDisposeScope();
        if (_tensor.is_contiguous())
        {
            // On another device: only the elements that hold the range come over (a chunked read of a 1 GB CUDA
            // parameter copies each chunk once, not the whole tensor per chunk).
            long first = offset / _itemSize, count = (offset + destination.Length - 1) / _itemSize - first + 1;
            var part = _tensor.detach().view(-1).narrow(0, first, count).cpu();
            part.bytes.Slice((int)(offset - first * _itemSize), destination.Length).CopyTo(destination);
            return;
        }
        CopyFrom(_tensor.detach().cpu().contiguous(), offset, destination);
    }

    /// <inheritdoc />
    protected override bool TryGetSpanCore(long offset, int length, out ReadOnlySpan<byte> span)
    {
        span = default;
        if (!InPlace || ByteLength > int.MaxValue) return false;
        span = _tensor.bytes.Slice((int)offset, length);
        return true;
    }

    // A contiguous CPU tensor's bytes [offset, offset + destination.Length). TorchSharp's span covers at most 2 GB, so
    // a larger tensor is read through a flat view narrowed to the elements that hold the range.
    private void CopyFrom(torch.Tensor contiguous, long offset, Span<byte> destination)
    {
        if (ByteLength <= int.MaxValue)
        {
            contiguous.bytes.Slice((int)offset, destination.Length).CopyTo(destination);
            return;
        }
        using var scope = torch.NewDisposeScope();
        long first = offset / _itemSize, last = (offset + destination.Length - 1) / _itemSize;
        long chunk = int.MaxValue / _itemSize;
        var flat = contiguous.view(-1);
        int written = 0;
        for (long e = first; e <= last; e += chunk)
        {
            long count = Math.Min(chunk, last - e + 1);
            var bytes = flat.narrow(0, e, count).bytes;
            int skip = e == first ? (int)(offset - first * _itemSize) : 0;
            int take = Math.Min(bytes.Length - skip, destination.Length - written);
            bytes.Slice(skip, take).CopyTo(destination[written..]);
            written += take;
        }
    }

    /// <summary>An identity for the memory a CPU tensor's values live in (tied weights share it); null elsewhere.</summary>

    /// <summary>
    /// What identifies a module tensor's values: its memory on the CPU (a tied Parameter may be reached through two
    /// handles: TorchSharp wraps it anew when assigned), its handle elsewhere.
    /// </summary>
    public static object IdentityOf(torch.Tensor t) => MemoryOf(t) is { } m ? m : t.Handle;

    public static unsafe (nint Address, long Bytes)? MemoryOf(torch.Tensor t)
    {
        if (t.device_type != DeviceType.CPU || !t.is_contiguous() || t.NumberOfElements == 0) return null;
        long bytes = t.NumberOfElements * t.ElementSize;
        if (bytes <= int.MaxValue) return ((nint)Unsafe.AsPointer(ref MemoryMarshal.GetReference(t.bytes)), bytes);
        using var scope = torch.NewDisposeScope();
        return ((nint)Unsafe.AsPointer(ref MemoryMarshal.GetReference(t.view(-1).narrow(0, 0, 1).bytes)), bytes);
    }
}
