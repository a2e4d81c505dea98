//! The service's entry point: the real API from the environment
//! (`WHISPIR_API_KEY`, `WHISPIR_USERNAME`, `WHISPIR_PASSWORD`), one alert
//! to the numbers given as arguments.

use whispir::Client;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let numbers: Vec<String> = std::env::args().skip(1).collect();
    let numbers: Vec<&str> = numbers.iter().map(String::as_str).collect();
    let client = Client::from_env()?;
    let id = whispir_newcomer::tell_the_team(&client, &numbers, "The build is green").await?;
    println!("sent as message {id}");
    Ok(())
}
