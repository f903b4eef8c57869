"""A straightforward PyTorch GPTQ, one weight matrix at a time (llm-compressor >= 0.8 semantics: scales fixed from
the original weights, block size 128, relative damping). Two uses: the reference for routecal's GPU GPTQ sweep
(make_ref_fixtures.py) and the per-expert baseline loop timed by hf_bench.py."""
import torch


def hinv_upper(H: torch.Tensor, damp: float = 0.01) -> torch.Tensor:
    """Upper Cholesky factor of the damped inverse Hessian, as llm-compressor builds it (dead columns set to 1)."""
    H = H.clone().double() if H.device.type == "cpu" else H.clone().float()
    dead = torch.diag(H) == 0
    H[dead, dead] = 1
    H += damp * torch.mean(torch.diag(H)) * torch.eye(H.shape[0], dtype=H.dtype, device=H.device)
    L = torch.linalg.cholesky(H)
    Hinv = torch.cholesky_inverse(L)
    return torch.linalg.cholesky(Hinv, upper=True).float()


def symmetric_scales(W: torch.Tensor, group_size: int, bits: int = 4) -> torch.Tensor:
    """compressed-tensors symmetric min-max: absmax / ((qmax - qmin) / 2) per group; zero scales become fp32 eps."""
    rows, cols = W.shape
    g = W.reshape(rows, cols // group_size, group_size)
    amax = g.abs().amax(dim=2)
    scale = amax / ((2 ** bits - 1) / 2)
    return torch.where(scale == 0, torch.finfo(torch.float32).eps, scale)


def gptq_sweep(W: torch.Tensor, U: torch.Tensor, scale: torch.Tensor, group_size: int, qmin: int, qmax: int,
               block: int = 128):
    """The GPTQ column sweep on W [rows, cols] with U = upper Cholesky of H^-1; returns (on-grid W, loss per row)."""
    W = W.clone().float()
    rows, cols = W.shape
    losses = torch.zeros(rows, dtype=torch.float32, device=W.device)
    for i1 in range(0, cols, block):
        i2 = min(i1 + block, cols)
        W1 = W[:, i1:i2].clone()
        Q1 = torch.zeros_like(W1)
        Err1 = torch.zeros_like(W1)
        U1 = U[i1:i2, i1:i2]
        for i in range(i2 - i1):
            w = W1[:, i]
            d = U1[i, i]
            s = scale[:, (i1 + i) // group_size]
            q = torch.round(torch.clamp(w / s, qmin, qmax)) * s
            Q1[:, i] = q
            losses += (w - q) ** 2 / d ** 2 / 2
            err = (w - q) / d
            W1[:, i:] -= err.unsqueeze(1).matmul(U1[i, i:].unsqueeze(0))
            Err1[:, i] = err
        W[:, i1:i2] = Q1
        W[:, i2:] -= Err1.matmul(U[i1:i2, i2:])
    return W, losses
