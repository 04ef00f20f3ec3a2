"""Image input and output in one room: files, DICOM, PNG and base64 bytes, size limits.

- :mod:`.files`: image files read (PNG, JPEG, TIFF and what else Pillow reads, DICOM,
  ``.npy``) and written, a DICOM CT read as Hounsfield units, a window applied for display;
- :mod:`.dicom`: DICOM values and display images, and the check on a deflated file's
  inflated size;
- :mod:`.encoding`: PNG bytes, base64 data URLs, base64-encoded image files decoded;
- :mod:`.limits`: the longer side shrunk to a limit, a deflated DICOM's inflated size.

The sources, the command line, the harness's API backends and the Space read and write
images through these names; the degradation engine itself works on arrays only.
"""

from .dicom import DicomImage, check_deflated, dicom_display, dicom_image, read_dicom
from .encoding import decode_base64_image, png_bytes, png_data_url
from .files import display, is_dicom, open_pillow, read_for_degrade, read_image, write_image
from .limits import max_inflated_bytes, shrink

__all__ = [
    "DicomImage",
    "check_deflated",
    "decode_base64_image",
    "dicom_display",
    "dicom_image",
    "display",
    "is_dicom",
    "max_inflated_bytes",
    "open_pillow",
    "png_bytes",
    "png_data_url",
    "read_dicom",
    "read_for_degrade",
    "read_image",
    "shrink",
    "write_image",
]
