//! The one error shape of every endpoint: a status plus
//! `{"success": false, "error": "<sentence>", "code": "<snake_case>"}`.
//!
//! [`Code`] is the table from error code to HTTP status; handlers build an [`ApiError`] from a
//! code and a sentence and never pick a status themselves. 5xx answers never carry internals:
//! [`ApiError::internal`] logs the cause and answers a fixed sentence.

use std::time::Duration;

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// Every error code the API answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Code {
    /// The body is not valid JSON.
    InvalidJson,
    /// The body is JSON but not the expected shape (missing field, wrong type).
    InvalidRequest,
    /// A URL that cannot be used.
    InvalidUrl,
    /// A job kind that does not exist.
    InvalidKind,
    /// A list cursor that was not handed out by this service.
    InvalidCursor,
    /// No valid key.
    Unauthorized,
    /// The monthly quota is used up.
    QuotaExceeded,
    /// The key may not do this.
    Forbidden,
    /// The fetch guard refused the target.
    TargetForbidden,
    /// No such resource (or not the caller's).
    NotFound,
    /// The route exists, the method does not.
    MethodNotAllowed,
    /// Something took longer than allowed.
    Timeout,
    /// The idempotency key was used with a different request.
    IdempotencyConflict,
    /// The job has already finished.
    JobFinished,
    /// The request body is too large.
    PayloadTooLarge,
    /// The body is not `application/json`.
    UnsupportedMediaType,
    /// Over the rate limit.
    RateLimited,
    /// An unexpected failure inside the service.
    Internal,
    /// The feature's engine is not built yet.
    NotImplemented,
    /// A dependency (store, browser pool) is not available.
    Unavailable,
    /// The browser pool's wait queue is full.
    PoolSaturated,
    /// A page could not be loaded (connection refused, DNS, TLS).
    NavigationFailed,
    /// The browser or the page's renderer failed while rendering.
    RenderFailed,
    /// A render action (click, write, ...) could not be done.
    ActionFailed,
}

impl Code {
    /// The HTTP status of this code.
    pub fn status(self) -> StatusCode {
        use Code::*;
        match self {
            InvalidJson | InvalidRequest | InvalidUrl | InvalidKind | InvalidCursor => StatusCode::BAD_REQUEST,
            Unauthorized => StatusCode::UNAUTHORIZED,
            QuotaExceeded => StatusCode::PAYMENT_REQUIRED,
            Forbidden | TargetForbidden => StatusCode::FORBIDDEN,
            NotFound => StatusCode::NOT_FOUND,
            MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Timeout => StatusCode::REQUEST_TIMEOUT,
            IdempotencyConflict | JobFinished => StatusCode::CONFLICT,
            PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            RateLimited | PoolSaturated => StatusCode::TOO_MANY_REQUESTS,
            NavigationFailed | RenderFailed => StatusCode::BAD_GATEWAY,
            ActionFailed => StatusCode::UNPROCESSABLE_ENTITY,
            Internal => StatusCode::INTERNAL_SERVER_ERROR,
            NotImplemented => StatusCode::NOT_IMPLEMENTED,
            Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The code as it appears in bodies.
    pub fn as_str(self) -> String {
        serde_json::to_value(self).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
    }
}

/// An error answer.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// What kind of error.
    pub code: Code,
    /// A sentence for a person.
    pub message: String,
    /// For 429: when to retry.
    pub retry_after: Option<Duration>,
}

/// The body of every error answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Always false.
    pub success: bool,
    /// A sentence for a person.
    pub error: String,
    /// A stable snake_case code for programs.
    pub code: Code,
}

impl ApiError {
    /// An error with `code` and `message`.
    pub fn new(code: Code, message: impl Into<String>) -> ApiError {
        ApiError { code, message: message.into(), retry_after: None }
    }

    /// A 500 whose cause is logged, never sent.
    pub fn internal(cause: impl std::fmt::Display) -> ApiError {
        tracing::error!(error = %cause, "internal error");
        ApiError::new(Code::Internal, "the service failed to handle this request; it has been logged")
    }

    /// 404 for a resource the caller cannot see (missing or another tenant's).
    pub fn not_found(what: &str) -> ApiError {
        ApiError::new(Code::NotFound, format!("{what} not found"))
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> ApiError {
        ApiError::internal(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody { success: false, error: self.message, code: self.code };
        let mut response = (self.code.status(), axum::Json(body)).into_response();
        if let Some(wait) = self.retry_after {
            let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            if let Ok(v) = HeaderValue::from_str(&secs.max(1).to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        response
    }
}

/// `Json<T>` whose rejections answer in the API's error shape.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

impl<T: Serialize> IntoResponse for ApiJson<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::JsonDataError(e) => ApiError::new(Code::InvalidRequest, format!("invalid request body: {}", inner(&e))),
        JsonRejection::JsonSyntaxError(e) => ApiError::new(Code::InvalidJson, format!("the body is not valid JSON: {}", inner(&e))),
        JsonRejection::MissingJsonContentType(_) => {
            ApiError::new(Code::UnsupportedMediaType, "send the body as JSON with Content-Type: application/json")
        }
        JsonRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError::new(Code::PayloadTooLarge, "the request body is larger than this service accepts")
        }
        other => ApiError::new(Code::InvalidRequest, format!("could not read the request body: {}", other.body_text())),
    }
}

fn inner(e: &dyn std::error::Error) -> String {
    let mut last = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        last = s.to_string();
        source = s.source();
    }
    last
}

/// Fallback for unknown routes.
pub async fn not_found_route() -> ApiError {
    ApiError::new(Code::NotFound, "no such endpoint")
}

/// Fallback for known routes called with the wrong method.
pub async fn method_not_allowed() -> ApiError {
    ApiError::new(Code::MethodNotAllowed, "this endpoint does not accept that method")
}

/// Turns a panic in a handler into a 500 without internals.
pub fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    ApiError::new(Code::Internal, "the service failed to handle this request; it has been logged").into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_snake_case_and_statuses_sensible() {
        assert_eq!(Code::TargetForbidden.as_str(), "target_forbidden");
        assert_eq!(Code::NotImplemented.status(), StatusCode::NOT_IMPLEMENTED);
        assert_eq!(Code::QuotaExceeded.status(), StatusCode::PAYMENT_REQUIRED);
        assert_eq!(Code::RateLimited.status(), StatusCode::TOO_MANY_REQUESTS);
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        let mut e = ApiError::new(Code::RateLimited, "slow down");
        e.retry_after = Some(Duration::from_millis(1500));
        let r = e.into_response();
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(r.headers()[header::RETRY_AFTER], "2");
    }
}
