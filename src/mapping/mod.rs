//! Stage 3: events to IAM actions and resources. The IAM action [`catalog`] and reviewed tables,
//! ARNs and their templates ([`arn`]), the [`mapper`] itself, and what an error code proves
//! ([`evidence`]).

pub mod arn;
pub mod authorized;
pub mod catalog;
pub mod evidence;
pub mod implied;
pub(crate) mod kept;
pub mod mapper;
pub mod memo;
pub mod params;
pub mod resources;
