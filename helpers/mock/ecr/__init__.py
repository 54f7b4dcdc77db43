"""ECR's registry served by the mock account, so ``docker login``/``push``/``pull`` work against it.

moto keeps ECR's control plane (repositories, images, policies) but has no registry: ``docker
push`` would go to ``<account>.dkr.ecr.<region>.amazonaws.com``, which does not exist here. This
package serves the Docker Registry HTTP API v2 (OCI distribution) on a second port of the
account (service.py), with ECR's Basic-auth tokens from GetAuthorizationToken (tokens.py,
moto_patches.py) and ECR's per-action authorization (access.py); wire.py is the HTTP layer,
store.py the state.

It is written here rather than run as Debian's ``docker-registry`` (distribution) binary because
that registry keeps its own manifests, which ECR's API (DescribeImages, BatchGetImage,
BatchDeleteImage, DeleteRepository) would never see, and it knows neither ECR's repositories
(pushing to one that does not exist must fail) nor its tokens and IAM. Here a manifest PUT *is*
moto's ``put_image``: one source of truth for both APIs.
"""

from .moto_patches import active_registry
from .service import RegistryService

__all__ = ["RegistryService", "active_registry"]
