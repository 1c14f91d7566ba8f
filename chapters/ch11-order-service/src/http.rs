//! The service's HTTP API (axum): the same three calls as the course's Spring OrderService.
//!
//! | method and path            | does                                      | answers            |
//! |----------------------------|-------------------------------------------|--------------------|
//! | `POST /orders`             | stores the order and its OrderCreated event | 201 + the order  |
//! | `GET /orders/{order_id}`   | reads one order                           | 200, or 404        |
//! | `GET /users/{user_id}/orders` | lists a user's orders, oldest first    | 200 + a list       |

use std::net::SocketAddr;

use anyhow::{Context, Result};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use tokio::net::TcpListener;

use crate::{Failpoint, NewOrder, OrderRepository};

// ANCHOR: router
pub fn router(repository: OrderRepository) -> Router {
    Router::new()
        .route("/orders", post(create_order))
        .route("/orders/{order_id}", get(get_order))
        .route("/users/{user_id}/orders", get(list_orders))
        .with_state(repository)
}

async fn create_order(State(repo): State<OrderRepository>, Json(new): Json<NewOrder>) -> Response {
    match repo.create(&new, Failpoint::None).await {
        Ok((order, _event)) => (StatusCode::CREATED, Json(order)).into_response(),
        Err(e) => error(StatusCode::BAD_REQUEST, e),
    }
}

async fn get_order(State(repo): State<OrderRepository>, Path(order_id): Path<String>) -> Response {
    match repo.get(&order_id).await {
        Ok(Some(order)) => Json(order).into_response(),
        Ok(None) => (StatusCode::NOT_FOUND, format!("no order {order_id}\n")).into_response(),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e),
    }
}

async fn list_orders(State(repo): State<OrderRepository>, Path(user_id): Path<String>) -> Response {
    match repo.list_by_user(&user_id).await {
        Ok(orders) => Json(orders).into_response(),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e),
    }
}
// ANCHOR_END: router

fn error(status: StatusCode, e: anyhow::Error) -> Response {
    (status, format!("{e:#}\n")).into_response()
}

// ANCHOR: serve
/// Binds 127.0.0.1:`port` (0 = any free port), serves the API in the background, and returns
/// the address it listens on.
pub async fn serve(
    repository: OrderRepository,
    port: u16,
) -> Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = TcpListener::bind(("127.0.0.1", port))
        .await
        .with_context(|| format!("binding 127.0.0.1:{port}"))?;
    let address = listener.local_addr().context("reading the bound address")?;
    let server = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router(repository)).await {
            eprintln!("the HTTP server stopped: {e}");
        }
    });
    Ok((address, server))
}
// ANCHOR_END: serve
