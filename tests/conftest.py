import pytest
import torch


@pytest.fixture(autouse=True, scope="session")
def one_torch_thread():
    """Tiny models on a shared CPU: extra intra-op threads only contend (and spin) with the other
    processes on the machine, which makes small tests many times slower (a 3 s test took 176 s
    next to a training run). One thread also keeps results independent of the core count."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


# -- GL: one standalone EGL context for the whole test run (HEADLESS_GL.md) ----------------------
@pytest.fixture(scope="session")
def gl_ctx():
    """The process's moderngl context; GL tests skip, saying why, where EGL cannot make one."""
    try:
        from viz import gl_context
        return gl_context.get()
    except Exception as e:  # no libEGL, no Mesa driver, no GL 3.3 ...
        pytest.skip(f"no OpenGL 3.3 context through EGL here ({type(e).__name__}: {e}); "
                    "install libegl1 libgl1-mesa-dri")


@pytest.fixture
def gl(gl_ctx):
    """gl_ctx, checked clean of GL errors before and after the test."""
    assert gl_ctx.error == "GL_NO_ERROR"
    yield gl_ctx
    assert gl_ctx.error == "GL_NO_ERROR"
