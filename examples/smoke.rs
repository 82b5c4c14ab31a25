use convbook::{Device, Tensor};
fn main() {
    pollster::block_on(async {
        let d = Device::gpu().await.unwrap();
        println!("{}", d.describe());
        let a = Tensor::from_f32(&d, (0..6).map(|x| x as f32).collect(), &[2, 3]).unwrap();
        let b = Tensor::from_f32(&d, (0..12).map(|x| x as f32).collect(), &[3, 4]).unwrap();
        println!("{:?}", a.matmul(&b).unwrap().to_f32_vec().await);
        println!("{:?}", a.softmax(-1).unwrap().to_f32_vec().await);
        println!("{:?}", a.sum(&[0], false).unwrap().to_f32_vec().await);
        println!("{:?}", a.transpose(&[1, 0]).unwrap().to_f32_vec().await);
        println!("{:?}", a.add(&Tensor::from_f32(&d, vec![10., 20., 30.], &[3]).unwrap()).unwrap().to_f32_vec().await);
    });
}
