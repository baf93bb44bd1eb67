"""The locally connected layer's Function as it was before the batch-innermost layout (kept here, not
in the package, only so the bench can time "before" against "after" side by side in one run)."""

import torch


class PreviousLocalConv2d(torch.autograd.Function):
    """x (B, C, H, W), weight (Ho, Wo, O, C, kh, kw), bias (O, Ho, Wo) or None -> (B, O, Ho, Wo);
    patches (L, B, K) with the channel innermost."""

    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding, dilation):
        (B, C, H, W), (Ho, Wo, O, _, kh, kw) = x.shape, weight.shape
        (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
        L, K = Ho * Wo, C * kh * kw
        xp = x.new_zeros(H + 2 * ph, W + 2 * pw, B, C)
        xp[ph : ph + H, pw : pw + W] = x.permute(2, 3, 0, 1)
        win = xp.unfold(0, dh * (kh - 1) + 1, sh).unfold(1, dw * (kw - 1) + 1, sw)[..., ::dh, ::dw]
        cols = win.permute(0, 1, 2, 4, 5, 3).reshape(L, B, K)
        w = weight.movedim(3, -1).reshape(L, O, K)
        if bias is None:
            y = torch.bmm(cols, w.transpose(1, 2))
        else:
            y = torch.baddbmm(bias.reshape(O, L).t().unsqueeze(1), cols, w.transpose(1, 2))
        ctx.save_for_backward(cols, weight)
        ctx.geometry = (x.shape, stride, padding, dilation)
        return y.permute(1, 2, 0).reshape(B, O, Ho, Wo)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad):
        cols, weight = ctx.saved_tensors
        (B, C, H, W), (sh, sw), (ph, pw), (dh, dw) = ctx.geometry
        Ho, Wo, O, _, kh, kw = weight.shape
        L = Ho * Wo
        gy = grad.reshape(B, O, L).permute(2, 0, 1).contiguous()
        gx = gw = gb = None
        if ctx.needs_input_grad[0]:
            gc = torch.bmm(gy, weight.movedim(3, -1).reshape(L, O, -1)).view(Ho, Wo, B, kh, kw, C)
            gxp = gc.new_zeros(H + 2 * ph, W + 2 * pw, B, C)
            for i in range(kh):
                for j in range(kw):
                    rows = slice(i * dh, i * dh + sh * (Ho - 1) + 1, sh)
                    gxp[rows, j * dw : j * dw + sw * (Wo - 1) + 1 : sw] += gc[:, :, :, i, j]
            gx = gxp[ph : ph + H, pw : pw + W].permute(2, 3, 0, 1)
        if ctx.needs_input_grad[1]:
            gw = torch.bmm(gy.transpose(1, 2), cols).view(Ho, Wo, O, kh, kw, C).movedim(-1, 3)
        if ctx.needs_input_grad[2]:
            gb = gy.sum(1).t().reshape(O, Ho, Wo)
        return gx, gw, gb, None, None, None


class previous_layout:
    """`with previous_layout():` LocallyConnected layers run the previous Function."""

    def __enter__(self):
        from sharebench.models import layers

        self.layers, self.current = layers, layers._LocalConv2d
        layers._LocalConv2d = PreviousLocalConv2d

    def __exit__(self, *exc):
        self.layers._LocalConv2d = self.current
