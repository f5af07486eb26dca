r"""Progress lines with an ETA for a long certification.

Certifying one image costs :math:`n_0 + n` forward passes of noisy copies
(100,100 by default), so a CIFAR-10 subset takes hours: every
``interval`` images a line reports the images done of the total, the
seconds per image so far and the time left,

.. math::
    \mathrm{ETA} = \frac{t}{m} (M - m)

after :math:`m` of :math:`M` images in :math:`t` seconds.
"""
import datetime
import logging
import time
from typing import Callable, Optional

from mmengine.dist import get_world_size
from mmengine.logging import print_log


def format_eta(seconds: float) -> str:
    """``3723.4 → '1:02:03'`` (``H:MM:SS``, days as ``1 day, 0:00:00``)."""
    return str(datetime.timedelta(seconds=int(round(max(seconds, 0.0)))))


class CertificationProgress:
    """Counts certified images and logs a progress line every
    ``interval`` of them (and after the last).

    Args:
        owner (str): Starts each line (the certifier's name).
        interval (int): Images between two lines.
        clock (callable): Seconds now. Defaults to ``time.monotonic``.
    """

    def __init__(self,
                 owner: str,
                 interval: int,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.owner = owner
        self.interval = int(interval)
        self.clock = clock
        self.total: Optional[int] = None
        self.done = 0
        self._t0 = clock()
        self._next = self.interval

    def start(self, total: Optional[int] = None) -> None:
        """Begin counting ``total`` images (None: unknown, no ETA)."""
        self.total = None if total is None else int(total)
        self.done = 0
        self._t0 = self.clock()
        self._next = self.interval

    def update(self, images: int) -> Optional[str]:
        """Count ``images`` more; returns the line logged, if any."""
        self.done += int(images)
        last = self.total is not None and self.done >= self.total
        if self.done < self._next and not last:
            return None
        self._next = (self.done // self.interval + 1) * self.interval
        line = self.line()
        print_log(line, logger='current', level=logging.INFO)
        return line

    def line(self) -> str:
        """E.g. ``smooth_l2_sigma0.25: certified 20/100 images, 1.52
        s/image, ETA 0:02:02``."""
        elapsed = self.clock() - self._t0
        per_image = elapsed / max(self.done, 1)
        rank = ' on this rank' if get_world_size() > 1 else ''
        if self.total is None:
            return (f'{self.owner}: certified {self.done} images{rank}, '
                    f'{per_image:.3g} s/image')
        left = max(self.total - self.done, 0)
        return (f'{self.owner}: certified {self.done}/{self.total} images'
                f'{rank}, {per_image:.3g} s/image, ETA '
                f'{format_eta(per_image * left)}')
